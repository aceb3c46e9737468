"""Sessions across processes: session and user read from incoming W3C Baggage, sent when asked.

In one process, with OpenTelemetry's own propagators and plain dict carriers standing for a
request's headers (tests/interop/test_services.py runs two real services over HTTP).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator

from traceroot import (
    observe,
    semconv,
    stamping,
    update_current_trace,
    using_attributes,
    using_session,
    using_user,
)
from traceroot.config import PROPAGATE_SESSION
from traceroot.context import MAX_ID_LENGTH, get_attributes

from .conftest import Spans, parent_of, span_id, trace_id

tracer = trace.get_tracer("a-third-party-library")
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def received(headers: Mapping[str, str]) -> otel_context.Token[otel_context.Context]:
    """Attach what a server instrumentation attaches for an incoming request: the context the
    process's propagators extract from its headers."""
    return otel_context.attach(propagate.extract(dict(headers)))


@pytest.fixture
def request_from_a() -> Iterator[None]:
    token = received({"traceparent": TRACEPARENT, "baggage": "session.id=chat-43,user.id=ada"})
    yield
    otel_context.detach(token)


def sent() -> dict[str, str]:
    """The headers an instrumented client sends from here."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def ids_of(attributes: Mapping[str, object] | None) -> tuple[object, object]:
    attributes = attributes or {}
    return attributes.get(semconv.SESSION_ID), attributes.get(semconv.USER_ID)


# -- Receiving ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("request_from_a")
def test_incoming_baggage_stamps_every_span_of_the_request(spans: Spans) -> None:
    with tracer.start_as_current_span("GET /tools"):
        observe(name="tool")(lambda: None)()
    server, tool = spans.one("GET /tools"), spans.one("tool")
    assert ids_of(server.attributes) == ("chat-43", "ada")
    assert ids_of(tool.attributes) == ("chat-43", "ada")
    # the same trace as the caller's
    assert trace_id(server) == trace_id(tool) == int(TRACEPARENT.split("-")[1], 16)
    assert parent_of(tool) == span_id(server)


@pytest.mark.usefixtures("request_from_a")
def test_a_local_block_wins_over_incoming_baggage_key_by_key(spans: Spans) -> None:
    with using_attributes(session_id="local-session"), tracer.start_as_current_span("inside"):
        pass
    with using_user("local-user"):
        observe(name="observed")(lambda: None)()
    assert ids_of(spans.one("inside").attributes) == ("local-session", "ada")
    assert ids_of(spans.one("observed").attributes) == ("chat-43", "local-user")


@pytest.mark.usefixtures("request_from_a")
def test_observe_ids_and_openinference_blocks_win_over_incoming_baggage(spans: Spans) -> None:
    observe(name="observed", session_id="from-observe")(lambda: None)()
    token = otel_context.attach(otel_context.set_value(semconv.OPENINFERENCE_USER_ID, "oi-user"))
    try:
        with tracer.start_as_current_span("openinference"):
            pass
    finally:
        otel_context.detach(token)
    assert ids_of(spans.one("observed").attributes) == ("from-observe", "ada")
    assert ids_of(spans.one("openinference").attributes) == ("chat-43", "oi-user")


@pytest.mark.usefixtures("request_from_a")
def test_update_current_trace_wins_over_incoming_baggage(spans: Spans) -> None:
    @observe(name="handler")
    def handler() -> None:
        update_current_trace(session_id="decided-here")
        with tracer.start_as_current_span("after"):
            pass

    handler()
    assert ids_of(spans.one("after").attributes) == ("decided-here", "ada")


@pytest.mark.usefixtures("request_from_a")
def test_incoming_ids_are_not_a_local_block(spans: Spans) -> None:
    # A framework integration sets its own session only where no block does: the one another
    # process sent must not stop it (stamping.ids answers for local blocks).
    assert stamping.ids(otel_context.get_current()) == (None, None)
    assert get_attributes().session_id is None


def test_other_baggage_entries_are_not_stamped(spans: Spans) -> None:
    token = received({"baggage": "tenant=acme,session=not-ours,session.id.x=y"})
    try:
        with tracer.start_as_current_span("raw"):
            pass
    finally:
        otel_context.detach(token)
    attributes = spans.one("raw").attributes or {}
    assert ids_of(attributes) == (None, None)
    assert not any(key.startswith(("tenant", "session")) for key in attributes)


def test_untrusted_values_are_bounded_and_empty_ones_skipped(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    long = "s" * 3000  # within the 4,096 bytes W3C allows an entry, beyond an id's bound
    token = received({"baggage": f"session.id={long},user.id="})
    try:
        with (
            caplog.at_level(logging.WARNING, logger="traceroot"),
            tracer.start_as_current_span("raw"),
        ):
            pass
    finally:
        otel_context.detach(token)
    assert ids_of(spans.one("raw").attributes) == ("s" * MAX_ID_LENGTH, None)
    assert "session id from baggage of 3000 characters was cut" in caplog.text


def test_percent_encoded_values_arrive_decoded(spans: Spans) -> None:
    # What another SDK (or ours) sends for an id with spaces and non-ASCII text
    token = received({"baggage": "session.id=chat%2043,user.id=Ada%20L%C3%B3pez"})
    try:
        with tracer.start_as_current_span("raw"):
            pass
    finally:
        otel_context.detach(token)
    assert ids_of(spans.one("raw").attributes) == ("chat 43", "Ada López")


def test_in_process_baggage_of_other_types_is_ignored(spans: Spans) -> None:
    ctx = baggage.set_baggage(semconv.BAGGAGE_SESSION_ID, 42)
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span("raw"):
            pass
    finally:
        otel_context.detach(token)
    assert ids_of(spans.one("raw").attributes) == (None, None)


def test_no_baggage_keeps_the_blocks_shared_attributes() -> None:
    # The hot path: a span started with no baggage gets the block's attributes as they are.
    with using_attributes(session_id="s"):
        ctx = otel_context.get_current()
        assert stamping.span_attributes(ctx) is get_attributes(ctx).span_attributes()
        unrelated = baggage.set_baggage("tenant", "acme", ctx)
        assert stamping.span_attributes(unrelated) == {semconv.SESSION_ID: "s"}


# -- Sending -------------------------------------------------------------------------------------


def test_nothing_is_sent_unless_asked() -> None:
    with (
        using_attributes(session_id="chat-43", user_id="ada", tags=["t"], metadata={"k": "v"}),
        tracer.start_as_current_span("call"),
    ):
        headers = sent()
    assert "traceparent" in headers
    assert "baggage" not in headers


def test_propagate_sends_session_and_user_not_tags_or_metadata() -> None:
    with using_attributes(
        session_id="chat-43", user_id="ada", tags=["t"], metadata={"k": "v"}, propagate=True
    ):
        headers = sent()
    assert _entries(headers) == {"session.id": "chat-43", "user.id": "ada"}
    # the block's end takes them back
    assert "baggage" not in sent()


def test_sent_values_are_encoded_and_read_back_alike(spans: Spans) -> None:
    with using_attributes(session_id="chat 43; x=1", user_id="Ada López", propagate=True):
        headers = sent()
    token = received(headers)
    try:
        with tracer.start_as_current_span("in-b"):
            pass
    finally:
        otel_context.detach(token)
    assert ids_of(spans.one("in-b").attributes) == ("chat 43; x=1", "Ada López")


def test_blocks_inside_a_propagating_block_propagate_too() -> None:
    with using_session("outer", propagate=True):
        with using_user("ada"):
            assert _entries(sent()) == {"session.id": "outer", "user.id": "ada"}
            with using_attributes(session_id="inner"):
                assert _entries(sent()) == {"session.id": "inner", "user.id": "ada"}

        @observe(name="tool", session_id="from-observe")
        def tool() -> dict[str, str]:
            return _entries(sent())

        assert tool() == {"session.id": "from-observe"}
        assert _entries(sent()) == {"session.id": "outer"}


def test_propagating_keeps_the_apps_own_baggage() -> None:
    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with using_user("ada", propagate=True):
            assert _entries(sent()) == {"tenant": "acme", "user.id": "ada"}
        assert _entries(sent()) == {"tenant": "acme"}
    finally:
        otel_context.detach(token)


def test_a_propagating_decorator_holds_for_the_call() -> None:
    @using_attributes(session_id="chat-43", propagate=True)
    def call() -> dict[str, str]:
        return _entries(sent())

    assert call() == {"session.id": "chat-43"}
    assert "baggage" not in sent()


def test_the_environment_variable_propagates_every_block(
    monkeypatch: pytest.MonkeyPatch, settings_override: object
) -> None:
    monkeypatch.setenv(PROPAGATE_SESSION, "true")
    settings_override()  # type: ignore[operator]  # settings read anew, as instrument() does
    with using_attributes(session_id="chat-43", user_id="ada"):
        assert _entries(sent()) == {"session.id": "chat-43", "user.id": "ada"}


def test_a_bad_environment_value_warns_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
    settings_override: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(PROPAGATE_SESSION, "sometimes")
    settings_override()  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="traceroot"), using_session("chat-43"):
        headers = sent()
    assert "baggage" not in headers
    assert PROPAGATE_SESSION in caplog.text


def test_a_service_in_the_middle_passes_the_session_on(spans: Spans) -> None:
    # A -> B -> C: B received the session; OpenTelemetry's baggage propagator forwards what B
    # received, so C's spans carry it too (B sends nothing of its own unless asked).
    with using_attributes(session_id="chat-43", propagate=True):
        from_a = sent()
    token = received(from_a)
    try:
        with using_user("b-user"):
            from_b = sent()
    finally:
        otel_context.detach(token)
    assert _entries(from_b) == {"session.id": "chat-43"}


def _entries(headers: Mapping[str, str]) -> dict[str, str]:
    """The Baggage entries of ``headers``, decoded by OpenTelemetry's propagator."""
    ctx = W3CBaggagePropagator().extract(dict(headers), context=otel_context.Context())
    return {key: str(value) for key, value in baggage.get_all(ctx).items()}


def test_each_request_gets_its_own_incoming_ids(spans: Spans) -> None:
    # Baggage is read once per request's entries, not per span: interleaved requests stay apart.
    first = propagate.extract({"baggage": "session.id=first"})
    second = propagate.extract({"baggage": "session.id=second,user.id=bob"})
    for name, ctx in (("1a", first), ("2a", second), ("1b", first), ("2b", second)):
        tracer.start_span(name, context=ctx).end()
    assert ids_of(spans.one("1a").attributes) == ids_of(spans.one("1b").attributes)
    assert ids_of(spans.one("1b").attributes) == ("first", None)
    assert ids_of(spans.one("2b").attributes) == ("second", "bob")
