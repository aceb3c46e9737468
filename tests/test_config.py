from __future__ import annotations

import logging

import pytest

from traceroot import config, logs


def test_defaults_from_an_empty_environment() -> None:
    settings = config.load(env={})
    assert settings.enabled is True
    assert settings.host_url == "https://app.traceroot.ai"
    assert (settings.timeout, settings.flush_at, settings.flush_interval) == (30.0, 100, 5.0)
    assert settings.capture_content is True
    assert settings.resolved_exporter() == "local"


def test_environment_values() -> None:
    settings = config.load(
        env={
            "TRACEROOT_ENABLED": "off",
            "TRACEROOT_API_KEY": "tr-key",
            "TRACEROOT_HOST_URL": "http://127.0.0.1:9/",
            "TRACEROOT_TIMEOUT": "2.5",
            "TRACEROOT_FLUSH_AT": "10",
            "TRACEROOT_FLUSH_INTERVAL": "0.5",
            "TRACEROOT_ENVIRONMENT": "staging",
            "TRACEROOT_CAPTURE_CONTENT": "false",
            "TRACEROOT_MAX_ATTRIBUTE_BYTES": "4096",
            "TRACEROOT_GIT_REPO": "acme/agent",
            "TRACEROOT_GIT_REF": "abc123",
        }
    )
    assert settings.enabled is False
    assert settings.resolved_exporter() == "traceroot"
    assert settings.traceroot_endpoint() == "http://127.0.0.1:9/api/v1/public/traces"
    assert (settings.timeout, settings.flush_at, settings.flush_interval) == (2.5, 10, 0.5)
    assert settings.environment == "staging"
    assert settings.capture_content is False
    assert settings.max_attribute_bytes == 4096
    assert (settings.git_repo, settings.git_ref) == ("acme/agent", "abc123")


def test_otlp_endpoint_chosen_when_no_key() -> None:
    settings = config.load(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert settings.resolved_exporter() == "otlp"
    forced = config.load(
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "TRACEROOT_EXPORTER": "Console"}
    )
    assert forced.resolved_exporter() == "console"


@pytest.mark.parametrize(
    ("variable", "value", "field", "default"),
    [
        ("TRACEROOT_ENABLED", "maybe", "enabled", True),
        ("TRACEROOT_TIMEOUT", "soon", "timeout", 30.0),
        ("TRACEROOT_TIMEOUT", "-1", "timeout", 30.0),
        ("TRACEROOT_FLUSH_AT", "1.5", "flush_at", 100),
        ("TRACEROOT_FLUSH_INTERVAL", "nan", "flush_interval", 5.0),
        ("TRACEROOT_EXPORTER", "kafka", "exporter", "auto"),
        ("TRACEROOT_MAX_ATTRIBUTE_BYTES", "10", "max_attribute_bytes", 32 * 1024),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon", "otlp_protocol", "http/protobuf"),
    ],
)
def test_bad_values_warn_once_naming_variable_and_accepted_values(
    variable: str,
    value: str,
    field: str,
    default: object,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "_seen", set())
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        first = config.load(env={variable: value})
        second = config.load(env={variable: value})
    assert getattr(first, field) == default
    assert getattr(second, field) == default
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert variable in warnings[0]
    assert "accepted" in warnings[0]


def test_arguments_override_environment_and_bad_arguments_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"TRACEROOT_ENVIRONMENT": "from-env", "TRACEROOT_TIMEOUT": "3"}
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        settings = config.load(
            {"environment": "from-arg", "timeout": "fast", "exporter": "nope", "flush_at": 5},
            env=env,
        )
    assert settings.environment == "from-arg"
    assert settings.timeout == 3.0
    assert settings.exporter == "auto"
    assert settings.flush_at == 5
    assert "timeout" in caplog.text
    assert "exporter" in caplog.text


def test_api_key_never_shown() -> None:
    shown = config.load(env={"TRACEROOT_API_KEY": "tr-secret-value-1234"}).redacted()
    assert "tr-secret-value" not in str(shown)
    assert shown["api_key"].endswith("1234")


def test_integration_toggles() -> None:
    disabled = config.disabled_integrations(
        {
            "TRACEROOT_INSTRUMENT_OPENAI": "false",
            "TRACEROOT_INSTRUMENT_LANGCHAIN": "true",
            "TRACEROOT_DISABLED_INTEGRATIONS": "llama-index, threading",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "anthropic",
        }
    )
    assert disabled == {
        "openai": "TRACEROOT_INSTRUMENT_OPENAI",
        "llama_index": "TRACEROOT_DISABLED_INTEGRATIONS",
        "threading": "TRACEROOT_DISABLED_INTEGRATIONS",
        "anthropic": "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    }
