"""No secret in any span: metadata and parameters too, before truncation, by name and by shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry import context as otel_context

from traceroot import (
    observe,
    semconv,
    start_span,
    update_current_span,
    update_current_trace,
    using_attributes,
)
from traceroot.secrets import REDACTED, is_secret_key, scrub
from traceroot.serialize import to_json

from .conftest import Spans

# Fake credentials in the shapes real ones have (none of them is valid anywhere).
OPENAI_KEY = "sk-proj-" + "Zx9Q" * 12
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BEARER_TOKEN = "eyJhbGciOi.fake-Token.123456789"
PEM_BLOCK = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefake\nQWERTY0123456789\n"
    "-----END RSA PRIVATE KEY-----"
)


def _attributes_text(spans: Spans) -> str:
    return " ".join(str(dict(span.attributes or {})) for span in spans.all())


def test_metadata_of_every_source_is_redacted(spans: Spans) -> None:
    @observe(metadata={"password": "pw-observe", "team": "search"})
    def handle() -> None:
        update_current_span(
            metadata={"api_key": "key-update-span", "step": 2},
            model_parameters={"temperature": 0.5, "api_key": "key-parameters"},
        )
        update_current_trace(metadata={"token": "tok-trace", "region": "eu"})

    with using_attributes(metadata={"api_key": "key-using", "tenant": "acme"}):
        handle()
    attributes = spans.one("handle").attributes
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {
        "api_key": REDACTED,
        "tenant": "acme",
        "password": REDACTED,
        "team": "search",
        "step": 2,
    }
    assert json.loads(attributes[semconv.LLM_MODEL_PARAMETERS]) == {
        "temperature": 0.5,
        "api_key": REDACTED,
    }
    assert json.loads(attributes[semconv.TRACE_METADATA]) == {"token": REDACTED, "region": "eu"}
    text = _attributes_text(spans)
    for secret in ("pw-observe", "key-update-span", "key-parameters", "tok-trace", "key-using"):
        assert secret not in text, secret


def test_openinference_metadata_in_the_context_is_redacted(spans: Spans) -> None:
    metadata = json.dumps({"client_secret": "oi-secret", "app": "demo"})
    token = otel_context.attach(otel_context.set_value(semconv.OPENINFERENCE_METADATA, metadata))
    try:
        with start_span("inside-openinference-block"):
            pass
    finally:
        otel_context.detach(token)
    recorded = spans.one("inside-openinference-block").attributes[semconv.SPAN_METADATA]
    assert json.loads(recorded) == {"client_secret": REDACTED, "app": "demo"}


def test_a_value_over_the_budget_is_redacted_before_it_is_cut(
    spans: Spans, settings_override: Any
) -> None:
    settings_override(max_attribute_bytes=1024)

    @observe
    def login(form: dict[str, str]) -> None:
        return None

    login({"api_key": "sk-cut-secret", "notes": "x" * 5000})
    recorded = json.loads(spans.one("login").attributes[semconv.SPAN_INPUT])
    assert recorded["truncated"] is True
    assert recorded["preview"].startswith('{"form":{"api_key":"[REDACTED]","notes":"xxx')
    assert "sk-cut-secret" not in _attributes_text(spans)
    assert spans.one("login").attributes[semconv.TRUNCATED] == (semconv.SPAN_INPUT,)


def test_a_long_string_is_scanned_past_the_cut() -> None:
    # The token straddles the end of the preview: its start must not be shown either.
    shown = len(json.loads(to_json("x" * 5000, budget=1024))["preview"])
    text = "x" * (shown - 30) + "Authorization: Bearer " + BEARER_TOKEN + " and more" * 200
    preview = json.loads(to_json(text, budget=1024))["preview"]
    assert preview.endswith("Authorization: Bearer [REDACT"), preview[-40:]
    assert BEARER_TOKEN[:3] not in preview


@pytest.mark.parametrize(
    "key",
    [
        "key",
        "openai_key",
        "AWS_SECRET_ACCESS_KEY",
        "PGPASSWORD",
        "passphrase",
        "signing_key",
        "encryption_key",
        "accessKey",
        "X-Auth-Token",
        "clientSecret",
    ],
)
def test_missed_key_names_are_secret(key: str) -> None:
    assert is_secret_key(key)
    assert json.loads(to_json({key: "s3cr3t-value", "model": "gpt"})) == {
        key: REDACTED,
        "model": "gpt",
    }


@pytest.mark.parametrize(
    "key", ["max_tokens", "tokens", "author", "monkey", "keys", "keyboard", "key_id", "user_id"]
)
def test_ordinary_names_are_kept(key: str) -> None:
    assert not is_secret_key(key)
    assert json.loads(to_json({key: 7})) == {key: 7}


def test_headers_as_pairs_and_name_value_records_are_redacted(spans: Spans) -> None:
    @observe
    def call(headers: list[tuple[str, str]], har: list[dict[str, str]]) -> None:
        return None

    call(
        [("Authorization", "Basic-opaque-1"), ("Accept", "json"), ("X-Api-Key", "opaque-2")],
        [{"name": "Cookie", "value": "sid=opaque-3"}, {"name": "Accept", "value": "json"}],
    )
    recorded = json.loads(spans.one("call").attributes[semconv.SPAN_INPUT])
    assert recorded == {
        "headers": [["Authorization", REDACTED], ["Accept", "json"], ["X-Api-Key", REDACTED]],
        "har": [{"name": "Cookie", "value": REDACTED}, {"name": "Accept", "value": "json"}],
    }


def test_tool_schemas_keep_parameters_with_secret_names() -> None:
    # A JSON schema's ``properties`` name parameters; they hold no value to hide.
    schema = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "token": {"type": "string"}},
            },
        },
    }
    assert json.loads(to_json(schema)) == schema


def test_credentials_in_free_text_are_redacted(spans: Spans) -> None:
    @observe
    def run(command: str) -> str:
        return "done"

    curl = (
        f"curl https://api.example.invalid -H 'Authorization: Bearer {BEARER_TOKEN}' "
        f"-H 'X-Key: {OPENAI_KEY}' --aws {AWS_KEY_ID} --key '{PEM_BLOCK}' "
        "postgres://ada:pg-pass-9@db.local/app?password=qs-pass-7"
    )
    run(curl)
    recorded = json.loads(spans.one("run").attributes[semconv.SPAN_INPUT])
    assert recorded == {
        "command": (
            "curl https://api.example.invalid -H 'Authorization: Bearer [REDACTED]' "
            "-H 'X-Key: [REDACTED]' --aws [REDACTED] --key '[REDACTED]' "
            "postgres://ada:[REDACTED]@db.local/app?password=[REDACTED]"
        )
    }
    text = _attributes_text(spans)
    for secret in (BEARER_TOKEN, OPENAI_KEY, AWS_KEY_ID, "MIIEow", "pg-pass-9", "qs-pass-7"):
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("shape", "kept"),
    [
        ("ghp_" + "a1B2" * 9, ""),
        ("github_pat_" + "11ABCDEFG0" * 4, ""),
        ("xoxb-1234567890-abcdefghij", ""),
        ("AIza" + "Sy" + "D1" * 16 + "x", ""),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", ""),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", ""),
        ("https://user:p4ss@host", "https://user:"),
        ("export OPENAI_API_KEY=abc123def", "export OPENAI_API_KEY="),
    ],
)
def test_well_known_shapes(shape: str, kept: str) -> None:
    text = json.dumps({"log": f"before {shape} after"})
    assert json.loads(scrub(text)) == {"log": f"before {kept}{REDACTED}{_rest(shape)} after"}


def _rest(shape: str) -> str:
    return "@host" if shape.endswith("@host") else ""


@pytest.mark.parametrize(
    "text",
    [
        "The bearer of bad news arrived.",
        "Use sorted(items, key=len) and a task-runner; ask about max_tokens=100.",
        "A basic idea: the monkey has the keys to the risk-free desk.",
        "See https://example.com/docs?page=2 and mailto:ada@example.com for details.",
        "-----BEGIN CERTIFICATE----- is public, and so is ssh-rsa AAAAB3Nza.",
        "Basic usage/examples are in the docs, Basic+Advanced/Expert too.",
        "rows.sort(sort_key=lambda r: r.id); Model(primary_key=True); oauth=enabled",
        "a=b " * 2000 + "token=None",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    encoded = json.dumps(text)
    assert scrub(encoded) == encoded
    assert json.loads(to_json({"text": text})) == {"text": text}


def test_a_pem_block_cut_before_its_end_is_redacted_to_the_end() -> None:
    cut = PEM_BLOCK[:60]
    assert json.loads(scrub(json.dumps({"k8s": "key: " + cut, "next": "ok"}))) == {
        "k8s": "key: " + REDACTED,
        "next": "ok",
    }


def test_redaction_never_breaks_the_json() -> None:
    nasty = {
        "a": 'Bearer 12345678"quoted\\" ' + PEM_BLOCK[:50] + '\\"',
        "b": "password=x\\y",
        "c": "postgres://u:p\\@h",
    }
    json.loads(scrub(json.dumps(nasty, ensure_ascii=False)))
    json.loads(to_json(nasty))


def test_assignments_found_among_many_equals_signs() -> None:
    text = "q=1&" * 3000 + "access_token=abc123secret&page=2 PASSWORD = hunter2 İ=x"
    assert scrub(json.dumps(text)) == json.dumps(
        "q=1&" * 3000 + f"access_token={REDACTED}&page=2 PASSWORD = {REDACTED} İ=x"
    )


def test_json_inside_a_string_is_redacted_inside() -> None:
    """A tool call's arguments are JSON text in a string: its secret-named keys are found too."""
    arguments = json.dumps({"user": "ada", "password": "hunter2"})
    call = [{"type": "function", "function": {"name": "login", "arguments": arguments}}]
    assert json.loads(json.loads(scrub(json.dumps(call)))[0]["function"]["arguments"]) == {
        "user": "ada",
        "password": REDACTED,
    }
    assert json.loads(json.loads(scrub(json.dumps(arguments)))) == {
        "user": "ada",
        "password": REDACTED,
    }
    kept = json.dumps({"note": '{"a": 1}', "text": "{not json"})
    assert scrub(kept) == kept


def test_a_bearer_token_after_an_escaped_tab_is_redacted() -> None:
    assert scrub(json.dumps("Authorization: Bearer\tabcdef1234567890")) == json.dumps(
        f"Authorization: Bearer\t{REDACTED}"
    )
