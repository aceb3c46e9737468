from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from traceroot import observe, semconv, start_span
from traceroot.secrets import REDACTED, _redact, contains_secret_keys, is_secret_key

from .conftest import Spans


def test_secret_named_inputs_are_redacted_ids_kept(spans: Spans) -> None:
    @observe
    def connect(url: str, api_key: str, options: dict[str, Any], session_id: str) -> str:
        return "ok"

    connect(
        "https://example.invalid",
        api_key="sk-live-123",
        options={"Password": "hunter2", "nested": [{"client_secret": "x", "max_tokens": 5}]},
        session_id="chat-1",
    )
    captured = json.loads(spans.one("connect").attributes[semconv.SPAN_INPUT])
    assert captured == {
        "url": "https://example.invalid",
        "api_key": REDACTED,
        "options": {"Password": REDACTED, "nested": [{"client_secret": REDACTED, "max_tokens": 5}]},
        "session_id": "chat-1",
    }
    assert "sk-live-123" not in str(spans.one("connect").attributes)


def test_outputs_and_set_output_are_redacted(spans: Spans) -> None:
    with start_span("login") as span:
        span.set_output({"user": "ada", "access_token": "tok-1", "trace_id": "abc"})
    assert json.loads(spans.one("login").attributes[semconv.SPAN_OUTPUT]) == {
        "user": "ada",
        "access_token": REDACTED,
        "trace_id": "abc",
    }


def test_secret_key_names() -> None:
    for key in (
        "api_key",
        "OPENAI_API_KEY",
        "x-api-key",
        "Authorization",
        "password",
        "token",
        "cookie",
    ):
        assert is_secret_key(key), key
    for key in (
        "session_id",
        "trace_id",
        "max_tokens",
        "input_tokens",
        "user_id",
        "tokens",
        "author",
    ):
        assert not is_secret_key(key), key


def test_redact_hook_runs_and_fails_closed(spans: Spans, settings_override: Any) -> None:
    @observe
    def echo(text: str) -> str:
        return text

    settings_override(redact=lambda value: "<masked>")
    echo("private words")
    masked = spans.one("echo").attributes
    assert masked[semconv.SPAN_INPUT] == "<masked>"  # strings as themselves
    assert masked[semconv.SPAN_OUTPUT] == "<masked>"
    spans.clear()

    def broken(value: Any) -> Any:
        raise RuntimeError("bug in the user's hook")

    settings_override(redact=broken)
    assert echo("private words") == "private words"
    attributes = spans.one("echo").attributes
    assert "private words" not in str(attributes)
    assert attributes[semconv.SPAN_INPUT] == "<withheld: redact hook failed>"


def test_secret_fields_of_models_are_redacted_too(spans: Spans) -> None:
    import pydantic

    class Credentials(pydantic.BaseModel):
        username: str
        password: str

    @observe
    def login(form: Credentials, headers: dict[str, str]) -> None:
        return None

    login(Credentials(username="ada", password="hunter2"), {"X-Api-Key": "k-1", "Accept": "json"})
    captured = json.loads(spans.one("login").attributes[semconv.SPAN_INPUT])
    assert captured == {
        "form": {"username": "ada", "password": REDACTED},
        "headers": {"X-Api-Key": REDACTED, "Accept": "json"},
    }


_SECRET_SPELLINGS = [
    "api_key",
    "API-KEY",
    "apiKey",
    "openai_api_key",
    "Password",
    "passwd",
    "pwd",
    "client_secret",
    "Authorization",
    "auth",
    "Bearer",
    "refresh_token",
    "id-token",
    "private_key",
    "credential",
    "Credentials",
    "set_cookie",
    "Cookie",
    "pa\u017fsword",  # a long s: IGNORECASE in the expression matches it as s
]


def test_every_secret_spelling_is_found_in_json_text() -> None:
    for key in _SECRET_SPELLINGS:
        # As traceroot writes JSON (compact, not ASCII-escaped), and with spaces around.
        for text in (
            json.dumps({key: "x"}, ensure_ascii=False, separators=(",", ":")),
            json.dumps([{"a": {key: 1}}], ensure_ascii=False, indent=2),
        ):
            assert contains_secret_keys(text), text


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(_SECRET_SPELLINGS) | st.text(max_size=12), inner)
        ),
        max_leaves=8,
    )
)
def test_the_quick_check_never_misses_a_secret_key(value: Any) -> None:
    # Whatever the walk over the parsed value would redact, the substring tests let through.
    if _redact(value) == value:
        return
    for text in (json.dumps(value, ensure_ascii=False), json.dumps(value)):
        assert contains_secret_keys(text), text


def test_every_secret_name_has_a_quick_check_ending() -> None:
    # A name added to the rule but not to the endings would be ruled out before it is seen.
    from traceroot.secrets import _SECRET_ENDINGS, _SECRET_WORDS

    for name in (*_SECRET_WORDS, *_SECRET_ENDINGS):
        for spelling in (name, name.upper(), f"x_{name}", f"x{name.capitalize()}"):
            assert is_secret_key(spelling), spelling
            assert contains_secret_keys(json.dumps({spelling: 1})), spelling
            assert contains_secret_keys(json.dumps([[spelling, "v"]])), spelling
