"""One session across two services: real processes on 127.0.0.1, OpenTelemetry's own HTTP
instrumentations on both sides (urllib in A, WSGI in B), traceroot in each.

A calls B inside ``using_attributes(session_id="chat-43", user_id="ada", tags=..., metadata=...)``:
with propagation on (``propagate=True`` or ``TRACEROOT_PROPAGATE_SESSION``) B's spans carry the
session and user; with it off nothing is sent. Either way the two are one trace. Both services
write spans to local stores the test reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from traceroot import semconv
from traceroot.records import StoredSpan
from traceroot.store import SpanStore

from ..conftest import required

required("opentelemetry.instrumentation.wsgi")
required("opentelemetry.instrumentation.urllib")

HERE = Path(__file__).parent
TIMEOUT = 60


class Run(NamedTuple):
    """One call from A to B: what B answered, and each side's spans of that trace."""

    answer: dict[str, Any]
    a: list[StoredSpan]
    b: list[StoredSpan]

    def b_span(self, name: str) -> StoredSpan:
        found = [span for span in self.b if span.name == name]
        assert len(found) == 1, [span.name for span in self.b]
        return found[0]

    def b_server_span(self) -> StoredSpan:
        """The span B's WSGI middleware started for the request: the tool's parent."""
        parent = self.b_span("lookup").parent_id
        (server,) = [span for span in self.b if span.span_id == parent]
        return server

    def a_client_span(self) -> StoredSpan:
        """The span A's urllib instrumentation started for the call: a child of ``ask B``."""
        (ask,) = [span for span in self.a if span.name == "ask B"]
        (client,) = [span for span in self.a if span.parent_id == ask.span_id]
        return client


def _env(store: Path, service: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TRACEROOT_", "OTEL_"))
    }
    env.update(
        TRACEROOT_STRICT="1",
        TRACEROOT_EXPORTER="local",
        TRACEROOT_STORE_PATH=str(store),
        OTEL_SERVICE_NAME=service,
        **extra,
    )
    return env


def _call_from_a(url: str, mode: str, store: Path) -> dict[str, Any]:
    extra = {"TRACEROOT_PROPAGATE_SESSION": "true"} if mode == "env" else {}
    done = subprocess.run(
        [sys.executable, str(HERE / "client_a.py"), url, mode],
        env=_env(store, "service-a", **extra),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _stored(path: Path) -> list[StoredSpan]:
    store = SpanStore(str(path), read_only=True)
    try:
        return store.all_spans()
    finally:
        store.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """B serving; A calling it once per case; then B stopped and both stores read."""
    folder = tmp_path_factory.mktemp("services")
    a_store, b_store = folder / "a.db", folder / "b.db"
    b = subprocess.Popen(
        [sys.executable, str(HERE / "service_b.py")],
        env=_env(b_store, "service-b"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert b.stdout is not None
        port = b.stdout.readline().strip()
        assert port.isdigit(), b.communicate(timeout=TIMEOUT)[1]
        base = f"http://127.0.0.1:{port}"
        answers = {
            "flag": _call_from_a(f"{base}/tool", "flag", a_store),
            "env": _call_from_a(f"{base}/tool", "env", a_store),
            "off": _call_from_a(f"{base}/tool", "off", a_store),
            "local": _call_from_a(f"{base}/tool-local", "flag", a_store),
        }
        urllib.request.urlopen(f"{base}/quit", timeout=TIMEOUT).read()
        _, errors = b.communicate(timeout=TIMEOUT)
        assert b.returncode == 0, errors
    finally:
        if b.poll() is None:
            b.kill()
            b.communicate()
    a_spans, b_spans = _stored(a_store), _stored(b_store)
    return {
        case: Run(
            answer,
            [span for span in a_spans if span.trace_id == answer["trace_id"]],
            [span for span in b_spans if span.trace_id == answer["trace_id"]],
        )
        for case, answer in answers.items()
    }


@pytest.mark.parametrize("case", ["flag", "env", "off", "local"])
def test_a_and_b_are_one_trace(runs: dict[str, Run], case: str) -> None:
    run = runs[case]
    assert {span.service_name for span in run.a} == {"service-a"}
    assert {span.service_name for span in run.b} == {"service-b"}
    # B's request span is the child of A's client span: the traceparent arrived
    assert run.b_server_span().parent_id == run.a_client_span().span_id
    assert run.b_span("lookup").parent_id == run.b_server_span().span_id


@pytest.mark.parametrize("case", ["flag", "env"])
def test_with_propagation_b_carries_the_session_and_user(runs: dict[str, Run], case: str) -> None:
    run = runs[case]
    for span in (run.b_server_span(), run.b_span("lookup")):
        assert (span.session_id, span.user_id) == ("chat-43", "ada"), span.name
        # tags and metadata stay in A
        assert semconv.SPAN_TAGS not in span.attributes
        assert semconv.SPAN_METADATA not in span.attributes
    header = run.answer["baggage"]
    assert "session.id=chat-43" in header
    assert "user.id=ada" in header
    assert "from-a" not in header
    assert "pro" not in header


def test_without_propagation_nothing_is_sent(runs: dict[str, Run]) -> None:
    run = runs["off"]
    assert run.answer["baggage"] is None
    for span in run.b:
        assert (span.session_id, span.user_id) == (None, None), span.name
        assert semconv.SESSION_ID not in span.attributes
        assert semconv.USER_ID not in span.attributes
    # while A's own spans have them
    assert {(span.session_id, span.user_id) for span in run.a} == {("chat-43", "ada")}


def test_a_local_block_in_b_wins_over_the_incoming_session(runs: dict[str, Run]) -> None:
    run = runs["local"]
    tool = run.b_span("lookup")
    assert (tool.session_id, tool.user_id) == ("b-session", "ada")
    # the request span started before the block: the session A sent
    assert run.b_server_span().session_id == "chat-43"
