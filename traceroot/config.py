"""Settings: from arguments first, then ``TRACEROOT_*`` / ``OTEL_*`` environment variables.

Read once and validated once. A bad value gets one warning that names the variable and the values
it accepts, and the default is used; nothing here raises.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple, TypeVar

from traceroot import semconv
from traceroot.logs import warn_once
from traceroot.serialize import DEFAULT_BUDGET, MIN_BUDGET

# -- Environment variable names ------------------------------------------------------------------
ENABLED: Final = "TRACEROOT_ENABLED"
API_KEY: Final = "TRACEROOT_API_KEY"
HOST_URL: Final = "TRACEROOT_HOST_URL"
TIMEOUT: Final = "TRACEROOT_TIMEOUT"
FLUSH_AT: Final = "TRACEROOT_FLUSH_AT"
FLUSH_INTERVAL: Final = "TRACEROOT_FLUSH_INTERVAL"
PROPAGATE_SESSION: Final = "TRACEROOT_PROPAGATE_SESSION"  # read by traceroot.context
ENVIRONMENT: Final = "TRACEROOT_ENVIRONMENT"
CAPTURE_CONTENT: Final = "TRACEROOT_CAPTURE_CONTENT"
EXPORTER: Final = "TRACEROOT_EXPORTER"
STORE_PATH: Final = "TRACEROOT_STORE_PATH"
MAX_ATTRIBUTE_BYTES: Final = "TRACEROOT_MAX_ATTRIBUTE_BYTES"
MAX_QUEUE_SIZE: Final = "TRACEROOT_MAX_QUEUE_SIZE"
SAMPLE_RATE: Final = "TRACEROOT_SAMPLE_RATE"
GIT_REPO: Final = "TRACEROOT_GIT_REPO"
GIT_REF: Final = "TRACEROOT_GIT_REF"
INSTRUMENT_PREFIX: Final = "TRACEROOT_INSTRUMENT_"
DISABLED_INTEGRATIONS: Final = "TRACEROOT_DISABLED_INTEGRATIONS"
OTEL_DISABLED_INSTRUMENTATIONS: Final = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
OTEL_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTEL_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_TRACES_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTEL_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
OTEL_CAPTURE_MESSAGE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

DEFAULT_HOST_URL: Final = "https://app.traceroot.ai"
TRACEROOT_TRACES_PATH: Final = "/api/v1/public/traces"
DEFAULT_STORE_PATH: Final = os.path.join(".traceroot", "traces.db")
EXPORTERS: Final = ("auto", "traceroot", "otlp", "local", "console", "none")
OTLP_PROTOCOLS: Final = ("http/protobuf", "grpc")
# OTLP's JSON encoding: OpenTelemetry Python's exporter for it is a beta that pins other versions
# of the packages the protobuf exporter needs, so it is refused with a warning and protobuf over
# HTTP, OTLP/HTTP's default encoding, is sent.
OTLP_JSON: Final = "http/json"

# Upper bounds of the numeric settings. A larger value (``1e10`` seconds, a queue of ``1e23``
# spans) is clamped to the bound with one warning: beyond it, threads and queues refuse the
# number (``OverflowError``) inside the export machinery, and nothing is gained before that.
MAX_SECONDS: Final = 3600.0
MAX_FLUSH_AT: Final = 1_000_000
MAX_QUEUE_SPANS: Final = 1_000_000
MAX_ATTRIBUTE_BUDGET: Final = 64 * 1024 * 1024
_MAXIMA: Final[dict[str, float]] = {
    "timeout": MAX_SECONDS,
    "flush_interval": MAX_SECONDS,
    "flush_at": MAX_FLUSH_AT,
    "max_queue_size": MAX_QUEUE_SPANS,
    "max_attribute_bytes": MAX_ATTRIBUTE_BUDGET,
    "sample_rate": 1.0,
}
# Settings that hold text; ``None`` is their unset value.
_TEXT_FIELDS: Final = frozenset(
    {"api_key", "host_url", "environment", "store_path", "git_repo", "git_ref", "otlp_endpoint"}
)

_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")


class Settings(NamedTuple):
    """The effective configuration; see the README's configuration table."""

    enabled: bool = True
    api_key: str | None = None
    host_url: str = DEFAULT_HOST_URL
    timeout: float = 30.0
    flush_at: int = 100
    flush_interval: float = 5.0
    environment: str | None = None
    capture_content: bool = True
    exporter: str = "auto"
    store_path: str = DEFAULT_STORE_PATH
    max_attribute_bytes: int = DEFAULT_BUDGET
    max_queue_size: int = 2048
    sample_rate: float = 1.0
    git_repo: str | None = None
    git_ref: str | None = None
    otlp_endpoint: str | None = None
    otlp_protocol: str = "http/protobuf"
    # Called with each captured content value; returns what to record (see ``initialize``).
    redact: Callable[[Any], Any] | None = None

    def resolved_exporter(self) -> str:
        """What ``auto`` stands for: TraceRoot with a key, OTLP with an endpoint, else local."""
        if self.exporter != "auto":
            return self.exporter
        if self.api_key:
            return "traceroot"
        if self.otlp_endpoint:
            return "otlp"
        return "local"

    def static_attributes(self) -> dict[str, str]:
        """Attributes every span gets from the configuration: environment and git."""
        static = {}
        if self.environment:
            static[semconv.ENVIRONMENT] = self.environment
        if self.git_repo:
            static[semconv.GIT_REPO] = self.git_repo
        if self.git_ref:
            static[semconv.GIT_REF] = self.git_ref
        return static

    def traceroot_endpoint(self) -> str:
        return self.host_url.rstrip("/") + TRACEROOT_TRACES_PATH

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict fit to print: the API key is never shown."""
        shown = self._asdict()
        shown["redact"] = None if self.redact is None else getattr(self.redact, "__name__", "hook")
        if self.api_key:
            shown["api_key"] = "***" + self.api_key[-4:] if len(self.api_key) > 8 else "***"
        return shown


def _bad_value(name: str, raw: str, accepted: str, default: object) -> None:
    warn_once(
        f"env:{name}={raw}",
        "traceroot: %s=%r is not valid (accepted: %s); using the default %r",
        name,
        raw,
        accepted,
        default,
    )


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _bad_value(name, raw, "true/false, 1/0, yes/no, on/off", default)
    return default


_N = TypeVar("_N", int, float)


def _parse_number(
    name: str,
    raw: str | None,
    default: _N,
    convert: Callable[[str], _N],
    minimum: _N,
    maximum: _N,
) -> _N:
    if raw is None or raw.strip() == "":
        return default
    value = _convert(raw.strip(), convert)
    if value is None or not value >= minimum:  # not a number, NaN, or too small
        _bad_value(name, raw, f"a {convert.__name__} from {minimum} to {maximum}", default)
        return default
    if value > maximum:
        _clamped(name, raw, maximum)
        return maximum
    return type(default)(value)  # a whole float (1e6) becomes the int it stands for


def _convert(text: str, convert: Callable[[str], _N]) -> _N | float | None:
    """``text`` as a number; an int setting also takes a whole number written as a float
    (``1e6``), and a huge one comes back as ``inf`` for the caller to clamp."""
    try:
        return convert(text)
    except ValueError:
        pass
    if convert is not int:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == float("inf") or number.is_integer() else None


def _clamped(name: str, raw: object, maximum: float) -> None:
    warn_once(
        f"clamped:{name}={raw!r}",
        "traceroot: %s=%r is above the maximum; using %r",
        name,
        raw,
        maximum,
    )


def _parse_rate(raw: str | None, default: float) -> float:
    rate = _parse_number(SAMPLE_RATE, raw, default, float, 0.0, 1.0)
    return rate


def parse_choice(name: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in choices:
        return value
    _bad_value(name, raw, " | ".join(choices), default)
    return default


def _text(raw: str | None) -> str | None:
    return raw.strip() or None if raw is not None else None


def load(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from ``overrides`` (arguments; ``None`` means unset) over the environment."""
    env = os.environ if env is None else env
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    defaults = Settings()
    sdk_enabled = _otel_sdk_enabled(env)
    from_env = Settings(
        enabled=_enabled(env, defaults.enabled, sdk_enabled),
        api_key=_text(env.get(API_KEY)),
        host_url=_text(env.get(HOST_URL)) or defaults.host_url,
        timeout=_parse_number(
            TIMEOUT, env.get(TIMEOUT), defaults.timeout, float, 0.001, MAX_SECONDS
        ),
        flush_at=_parse_number(
            FLUSH_AT, env.get(FLUSH_AT), defaults.flush_at, int, 1, MAX_FLUSH_AT
        ),
        flush_interval=_parse_number(
            FLUSH_INTERVAL,
            env.get(FLUSH_INTERVAL),
            defaults.flush_interval,
            float,
            0.001,
            MAX_SECONDS,
        ),
        environment=_text(env.get(ENVIRONMENT)),
        capture_content=_capture_content(env, defaults.capture_content),
        exporter=parse_choice(EXPORTER, env.get(EXPORTER), EXPORTERS, defaults.exporter),
        store_path=_text(env.get(STORE_PATH)) or defaults.store_path,
        max_attribute_bytes=_parse_number(
            MAX_ATTRIBUTE_BYTES,
            env.get(MAX_ATTRIBUTE_BYTES),
            DEFAULT_BUDGET,
            int,
            MIN_BUDGET,
            MAX_ATTRIBUTE_BUDGET,
        ),
        max_queue_size=_parse_number(
            MAX_QUEUE_SIZE,
            env.get(MAX_QUEUE_SIZE),
            defaults.max_queue_size,
            int,
            1,
            MAX_QUEUE_SPANS,
        ),
        sample_rate=_parse_rate(env.get(SAMPLE_RATE), defaults.sample_rate),
        git_repo=_text(env.get(GIT_REPO)),
        git_ref=_text(env.get(GIT_REF)),
        otlp_endpoint=_text(env.get(OTEL_TRACES_ENDPOINT)) or _text(env.get(OTEL_ENDPOINT)),
        otlp_protocol=_otlp_protocol(env, defaults.otlp_protocol),
    )
    settings = _apply_overrides(from_env, given)
    _warn_if_key_sent_in_clear(settings)
    if settings.enabled and not sdk_enabled:
        warn_once(
            f"enabled:{OTEL_SDK_DISABLED}",
            "traceroot: traceroot is enabled (%s=true or enabled=True wins over %s=true), but "
            "the OpenTelemetry SDK's tracer providers record no span while %s=true",
            ENABLED,
            OTEL_SDK_DISABLED,
            OTEL_SDK_DISABLED,
        )
    if settings.resolved_exporter() == "otlp":
        _warn_if_json_asked(env)
    return settings


def _enabled(env: Mapping[str, str], default: bool, sdk_enabled: bool) -> bool:
    """``TRACEROOT_ENABLED`` when it is set (a bad value: the default); else off under
    ``OTEL_SDK_DISABLED=true``, like everything else built on the OpenTelemetry SDK."""
    raw = env.get(ENABLED)
    otel = default and sdk_enabled
    if _text(raw) is not None:
        return parse_bool(ENABLED, raw, otel)  # a bad value: what the OTel setting says
    return otel


def _otel_sdk_enabled(env: Mapping[str, str]) -> bool:
    """Whether ``OTEL_SDK_DISABLED`` leaves the OpenTelemetry SDK on, read as the SDK reads it:
    only ``true`` (any case) disables."""
    raw = env.get(OTEL_SDK_DISABLED)
    value = (raw or "").strip().lower()
    if value not in ("", "true", "false"):
        warn_once(
            f"env:{OTEL_SDK_DISABLED}={raw}",
            "traceroot: %s=%r is not valid (accepted: true | false); the OpenTelemetry SDK "
            "and traceroot stay enabled",
            OTEL_SDK_DISABLED,
            raw,
        )
    return value != "true"


# OpenTelemetry's GenAI content setting: ``true``/``false`` as the GenAI instrumentations read it
# (openai-v2), or where content goes, in opentelemetry-util-genai's newer form (any case, like
# both). traceroot records content on spans only: it captures content when spans get it.
_OTEL_CONTENT_MODES: Final = {
    "true": True,
    "false": False,
    "span_only": True,
    "span_and_event": True,
    "event_only": False,
    "no_content": False,
}


def _capture_content(env: Mapping[str, str], default: bool) -> bool:
    """``TRACEROOT_CAPTURE_CONTENT`` when it is set; else OpenTelemetry's GenAI setting."""
    raw = env.get(CAPTURE_CONTENT)
    if raw is not None and raw.strip().lower() in _TRUE + _FALSE:
        return parse_bool(CAPTURE_CONTENT, raw, default)
    otel = _otel_capture_content(env.get(OTEL_CAPTURE_MESSAGE_CONTENT), default)
    if _text(raw) is not None:
        parse_bool(CAPTURE_CONTENT, raw, otel)  # its warning; a bad value: the OTel setting
    return otel


def _otel_capture_content(raw: str | None, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    captured = _OTEL_CONTENT_MODES.get(raw.strip().lower())
    if captured is None:
        accepted = "true | false | SPAN_ONLY | SPAN_AND_EVENT | EVENT_ONLY | NO_CONTENT"
        _bad_value(OTEL_CAPTURE_MESSAGE_CONTENT, raw, accepted, default)
        return default
    return captured


def _traces_protocol_variable(env: Mapping[str, str]) -> str:
    """The ``_TRACES_`` protocol variable when it is set, else the one for every signal."""
    return OTEL_TRACES_PROTOCOL if _text(env.get(OTEL_TRACES_PROTOCOL)) else OTEL_PROTOCOL


def _otlp_protocol(env: Mapping[str, str], default: str) -> str:
    name = _traces_protocol_variable(env)
    raw = env.get(name)
    if (_text(raw) or "").lower() == OTLP_JSON:
        return default  # refused, with a warning where spans go over OTLP (_warn_if_json_asked)
    return parse_choice(name, raw, OTLP_PROTOCOLS, default)


def _warn_if_json_asked(env: Mapping[str, str]) -> None:
    name = _traces_protocol_variable(env)
    if (_text(env.get(name)) or "").lower() != OTLP_JSON:
        return
    warn_once(
        f"env:{name}={OTLP_JSON}",
        "traceroot: %s=%s is not supported (OpenTelemetry Python has no stable OTLP/JSON span "
        "exporter); spans are sent as protobuf over HTTP (http/protobuf) instead",
        name,
        OTLP_JSON,
    )


def _apply_overrides(base: Settings, given: Mapping[str, Any]) -> Settings:
    accepted: dict[str, Any] = {}
    for name, value in given.items():
        current_value = getattr(base, name) if name in Settings._fields else _MISSING
        if name == "store_path" and isinstance(value, os.PathLike):
            value = os.fspath(value)
        problem = _override_problem(name, value, current_value)
        if problem is not None:
            warn_once(
                f"argument:{name}={value!r}",
                "traceroot: %s=%r %s; using %r",
                name,
                value,
                problem,
                current_value,
            )
            continue
        maximum = _MAXIMA.get(name)
        if maximum is not None and value > maximum:
            _clamped(name, value, maximum)
            value = int(maximum) if isinstance(current_value, int) else float(maximum)
        accepted[name] = value.lower() if name == "exporter" else value
    return base._replace(**accepted)


_MISSING: Final = object()


def _override_problem(name: str, value: Any, current_value: Any) -> str | None:
    """Why an argument cannot be used, or ``None`` when it can."""
    if current_value is _MISSING:
        return "is not a setting"
    if name in _TEXT_FIELDS:
        return None if isinstance(value, str) and value.strip() else "must be a non-empty str"
    if name == "redact":
        return None if callable(value) else "must be a function"
    if name == "exporter":
        ok = isinstance(value, str) and value.lower() in EXPORTERS
        return None if ok else f"is not one of {' | '.join(EXPORTERS)}"
    if isinstance(current_value, bool):
        return None if isinstance(value, bool) else "must be True or False"
    if isinstance(current_value, (int, float)):
        number = isinstance(value, type(current_value)) or (
            isinstance(current_value, float) and isinstance(value, int)
        )
        # ``value > 0`` is False for NaN too
        ok = number and not isinstance(value, bool) and value > 0
        return None if ok else f"must be a positive {type(current_value).__name__}"
    return None


def checked_timeout(name: str, timeout: object) -> float | None:
    """A ``timeout`` argument of ``flush``/``shutdown`` as seconds the export machinery takes:
    ``None`` stays the default; NaN or not a number warns once and means the default; more than
    :data:`MAX_SECONDS` (``inf`` too) is clamped with one warning; below zero is zero."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout:
        warn_once(
            f"argument:{name}:timeout={timeout!r}",
            "traceroot: %s(timeout=%r): the timeout must be a number of seconds; using the default",
            name,
            timeout,
        )
        return None
    if timeout > MAX_SECONDS:
        _clamped(f"{name}(timeout)", timeout, MAX_SECONDS)
        return MAX_SECONDS
    return max(float(timeout), 0.0)


def _warn_if_key_sent_in_clear(settings: Settings) -> None:
    """The API key goes with every export to the host URL: over plain ``http://`` to another
    machine, anyone on the way can read it."""
    if not settings.api_key or settings.resolved_exporter() != "traceroot":
        return
    if not is_plain_http_to_another_host(settings.host_url):
        return
    host = urllib.parse.urlsplit(settings.host_url.strip()).hostname  # never a user:password@
    warn_once(
        f"plain-http:{host}",
        "traceroot: the host URL is plain http:// to %s, another machine: the API key would be "
        "sent readable by anyone on the way; use https:// (set %s)",
        host,
        HOST_URL,
    )


def is_plain_http_to_another_host(url: str) -> bool:
    """Whether ``url`` is ``http://`` (no TLS) to a host that is not this machine's loopback."""
    from traceroot.endpoints import is_loopback  # the CLI's test, loaded only when a key is set

    parsed = urllib.parse.urlsplit(url.strip())
    # a name other than localhost: another machine as far as anyone can tell from here
    return parsed.scheme.lower() == "http" and not is_loopback(parsed.hostname)


def disabled_integrations(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Integration names switched off by the environment, each with the setting that did it."""
    env = os.environ if env is None else env
    disabled: dict[str, str] = {}
    for variable in (OTEL_DISABLED_INSTRUMENTATIONS, DISABLED_INTEGRATIONS):
        for name in (env.get(variable) or "").split(","):
            if name.strip():
                disabled[_integration_key(name)] = variable
    for variable, raw in env.items():
        toggle = variable.startswith(INSTRUMENT_PREFIX) and len(variable) > len(INSTRUMENT_PREFIX)
        if toggle and not parse_bool(variable, raw, True):
            disabled[_integration_key(variable[len(INSTRUMENT_PREFIX) :])] = variable
    return disabled


def _integration_key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


# -- The settings in force -----------------------------------------------------------------------
_current: Settings | None = None


def current() -> Settings:
    """The settings in force: those given to ``initialize``/``instrument``, else from the env."""
    settings = _current
    if settings is None:
        settings = activate(load())
    return settings


def activate(settings: Settings) -> Settings:
    global _current, _static
    _current = settings
    _static = settings.static_attributes()
    return settings


_static: dict[str, str] = {}


def static_attributes() -> dict[str, str]:
    """:meth:`Settings.static_attributes` of the settings in force (computed once)."""
    if _current is None:
        current()
    return _static
