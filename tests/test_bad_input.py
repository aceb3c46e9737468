"""Property tests: whatever users pass, traceroot never raises into their code and every span
stays valid and within the size budget."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from traceroot import config, observe, semconv, start_span, using_attributes

from .conftest import Spans

weird_text = st.text(
    alphabet=st.characters(blacklist_categories=(), blacklist_characters=()), max_size=3000
)
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | weird_text
    | st.binary(max_size=100)
    | st.builds(object),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=20,
)
ids = st.none() | weird_text | st.integers() | st.floats() | st.builds(object)
tags = st.none() | weird_text | st.lists(anything, max_size=5) | st.integers()
metadata = (
    st.none()
    | st.dictionaries(st.text(max_size=20) | st.integers(), anything, max_size=5)
    | anything
)

BUDGET = 32 * 1024


@observe
def echo(value: Any) -> Any:
    return value


def assert_valid(spans: Spans, *, text_output: bool = False) -> None:
    """``text_output``: the output was a string, recorded as itself (JSON only when cut)."""
    for span in spans.all():
        attributes = span.attributes or {}
        for key, value in attributes.items():
            if isinstance(value, str):
                value.encode("utf-8")
                assert len(value.encode("utf-8")) <= max(BUDGET, 1_000 * 4), key
            if key in (semconv.SPAN_INPUT, semconv.SPAN_METADATA):
                json.loads(value)
            if key == semconv.SPAN_OUTPUT and (
                not text_output or key in attributes.get(semconv.TRUNCATED, ())
            ):
                json.loads(value)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=anything)
def test_observed_arguments_and_results(spans: Spans, value: Any) -> None:
    spans.clear()
    assert echo(value) is value
    assert_valid(spans, text_output=isinstance(value, str))
    assert len(spans.all()) == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(session=ids, user=ids, tag_values=tags, meta=metadata)
# Lone surrogates: Python strings hold them, no exporter can encode them (a batch would be lost).
@example(session="\ud800", user="a\udfffb", tag_values=["\udc80", 3], meta=None)
@example(session="x", user=None, tag_values="\ud83d\ude00", meta=None)
def test_context_values(spans: Spans, session: Any, user: Any, tag_values: Any, meta: Any) -> None:
    spans.clear()
    with using_attributes(session_id=session, user_id=user, tags=tag_values, metadata=meta):
        echo(1)
    assert_valid(spans)
    (span,) = spans.all()
    if session is not None:
        assert len(span.attributes[semconv.SESSION_ID]) <= 1_000


@settings(max_examples=200, deadline=None)
@given(
    environment=st.dictionaries(
        st.sampled_from(
            [
                config.ENABLED,
                config.TIMEOUT,
                config.FLUSH_AT,
                config.FLUSH_INTERVAL,
                config.EXPORTER,
                config.CAPTURE_CONTENT,
                config.MAX_ATTRIBUTE_BYTES,
                config.MAX_QUEUE_SIZE,
                config.SAMPLE_RATE,
                config.OTEL_PROTOCOL,
                config.OTEL_TRACES_PROTOCOL,
                config.OTEL_SDK_DISABLED,
                config.OTEL_CAPTURE_MESSAGE_CONTENT,
                "TRACEROOT_INSTRUMENT_OPENAI",
                config.DISABLED_INTEGRATIONS,
            ]
        ),
        st.text(max_size=30),
    )
)
def test_environment_values_never_raise(environment: dict[str, str]) -> None:
    settings_loaded = config.load(env=environment)
    assert settings_loaded.timeout > 0
    assert settings_loaded.flush_at >= 1
    assert 0.0 <= settings_loaded.sample_rate <= 1.0
    assert settings_loaded.exporter in config.EXPORTERS
    assert settings_loaded.otlp_protocol in config.OTLP_PROTOCOLS
    config.disabled_integrations(environment)


def test_names_and_attribute_values_with_lone_surrogates_stay_exportable(spans: Spans) -> None:
    @observe(name="step \ud800")
    def step() -> None:
        return None

    step()
    with start_span("block \udfff") as span:
        span.set_attribute("note", "half \ud800 pair")
    assert_valid(spans)
    assert {s.name for s in spans.all()} == {"step \ufffd", "block \ufffd"}
    assert spans.one("block \ufffd").attributes["note"] == "half \ufffd pair"
