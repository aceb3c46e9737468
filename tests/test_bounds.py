"""The export path's last look at a span: texts cut to the budget, credentials taken out of the
texts that did not go through traceroot's JSON (names, exception messages, tags)."""

from __future__ import annotations

from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.trace import Status, StatusCode

from traceroot import semconv
from traceroot.bounds import bounded

DSN = "postgres://app:hunter2pw@db/x"
KEY = "sk-proj-" + "A" * 30


def test_credentials_leave_names_exceptions_and_tags() -> None:
    span = ReadableSpan(
        name=f"connect {DSN}",
        attributes={semconv.SPAN_TAGS: ("retrieval", "Bearer abcdef1234567890")},
        events=[
            Event(
                "exception",
                {"exception.type": "RuntimeError", "exception.message": f"refused {KEY}"},
            )
        ],
        status=Status(StatusCode.ERROR, f"RuntimeError: cannot reach {DSN}"),
    )
    out = bounded(span, 10_000)
    assert out.name == "connect postgres://app:[REDACTED]@db/x"
    assert out.status.description == "RuntimeError: cannot reach postgres://app:[REDACTED]@db/x"
    assert out.status.status_code is StatusCode.ERROR
    assert out.attributes[semconv.SPAN_TAGS] == ("retrieval", "Bearer [REDACTED]")
    assert dict(out.events[0].attributes or {}) == {
        "exception.type": "RuntimeError",
        "exception.message": "refused [REDACTED]",
    }


def test_a_credential_past_the_cut_is_not_half_shown() -> None:
    message = "x" * 990 + f" {KEY} " + "y" * 5000
    out = bounded(ReadableSpan(name="n", status=Status(StatusCode.ERROR, message)), 1_000)
    description = out.status.description or ""
    assert "sk-proj" not in description
    assert description.endswith("bytes]")
    assert len(description.encode()) <= 1_000


def test_a_span_with_nothing_to_change_is_passed_on_as_it_is() -> None:
    tracer = TracerProvider().get_tracer("test")
    span = tracer.start_span("plain", attributes={semconv.SPAN_TAGS: ("a", "b"), "n": 3})
    span.add_event("note", {"text": "nothing secret here"})
    span.end()
    assert bounded(span, 10_000) is span  # type: ignore[arg-type]
