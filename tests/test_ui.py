"""``traceroot ui`` over real HTTP: its API's pages, and its safety defaults (headers, Host check,
GET only, assets from this server only)."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from traceroot import costs, semconv
from traceroot.ui import queries, server

from .stores import cli, environment, row, write

T0 = 1_760_000_000_000_000_000  # a fixed time, in ns
MS = 1_000_000
XSS = "<img src=x onerror=alert(1)>"
STATIC = Path(server.__file__).resolve().parent / "static"


def chat(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def conversation_rows() -> list[tuple[Any, ...]]:
    """Session "s1" (user ada, tag demo): two turns, each an agent with a model call and a tool;
    the second turn's tool fails. Session "s2" (user bob): one turn whose output is markup."""
    rows = []
    context = {"session_id": "s1", "user_id": "ada"}
    for turn, (question, answer) in enumerate(
        [("weather in Paris?", "Sunny in Paris"), ("and tomorrow?", "Rain tomorrow")], start=1
    ):
        start = T0 + turn * 1000 * MS
        tags = {semconv.SPAN_TAGS: ["demo"]}
        rows.append(
            row(
                turn,
                1,
                name="agent",
                kind="agent",
                start_ns=start,
                end_ns=start + 100 * MS * turn,
                attributes={
                    **tags,
                    semconv.SPAN_INPUT: json.dumps({"messages": [chat("user", question)]}),
                    semconv.SPAN_OUTPUT: json.dumps(
                        {"messages": [chat("user", question), chat("assistant", answer)]}
                    ),
                },
                **context,
            )
        )
        rows.append(
            row(
                turn,
                2,
                1,
                name="chat gpt-4o-mini",
                kind="llm",
                start_ns=start + 10 * MS,
                end_ns=start + 40 * MS,
                model="gpt-4o-mini",
                input_tokens=100,
                output_tokens=20,
                attributes={
                    **tags,
                    semconv.GEN_AI_PROVIDER_NAME: "openai",
                    semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                    semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
                    semconv.GEN_AI_INPUT_MESSAGES: json.dumps([chat("user", question)]),
                    semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps([chat("assistant", answer)]),
                },
                **context,
            )
        )
        failed = turn == 2
        rows.append(
            row(
                turn,
                3,
                1,
                name="get_weather",
                kind="tool",
                start_ns=start + 50 * MS,
                end_ns=start + 60 * MS,
                status="ERROR" if failed else "UNSET",
                status_message="ValueError: no forecast" if failed else None,
                attributes={
                    **tags,
                    semconv.GEN_AI_TOOL_NAME: "get_weather",
                    semconv.GEN_AI_TOOL_CALL_ARGUMENTS: '{"city": "Paris"}',
                    **({semconv.ERROR_TYPE: "ValueError"} if failed else {}),
                },
                events=[
                    {
                        "name": "exception",
                        "timestamp": start + 59 * MS,
                        "attributes": {
                            semconv.EXCEPTION_TYPE: "ValueError",
                            semconv.EXCEPTION_MESSAGE: "no forecast",
                            semconv.EXCEPTION_STACKTRACE: "Traceback ...",
                        },
                    }
                ]
                if failed
                else [],
                **context,
            )
        )
    rows.append(
        row(
            3,
            1,
            name="render",
            start_ns=T0 + 5000 * MS,
            end_ns=T0 + 5300 * MS,
            session_id="s2",
            user_id="bob",
            model="no-such-model-anywhere",
            input_tokens=5,
            output_tokens=5,
            attributes={semconv.SPAN_INPUT: '"show me"', semconv.SPAN_OUTPUT: json.dumps(XSS)},
        )
    )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "traces.db"
    write(path, conversation_rows())
    return path


@pytest.fixture
def viewer(store: Path) -> Iterator[server.Viewer]:
    running = server.start(str(store))
    yield running
    running.shutdown()
    running.server_close()


def request(
    viewer: server.Viewer, path: str, *, method: str = "GET", host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", viewer.port, timeout=10)
    headers = {"Host": host if host is not None else f"127.0.0.1:{viewer.port}"}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def get_json(viewer: server.Viewer, path: str) -> Any:
    status, headers, body = request(viewer, path)
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


# -- the pages ---------------------------------------------------------------------------------


def test_sessions_newest_first_with_turn_text_tokens_errors(viewer: server.Viewer) -> None:
    page = get_json(viewer, "/api/sessions")
    assert [r["session_id"] for r in page["rows"]] == ["s2", "s1"]
    s1 = page["rows"][1]
    assert s1["user_id"] == "ada"
    assert s1["traces"] == 2
    assert s1["first_input"] == "weather in Paris?"
    assert s1["last_output"] == "Rain tomorrow"
    assert (s1["input_tokens"], s1["output_tokens"], s1["errors"]) == (200, 40, 1)
    assert s1["first_ms"] == (T0 + 1000 * MS) / 1e6
    assert page["stats"]["traces"] == 3
    assert page["stats"]["input_tokens"] == 205
    # Durations 100, 200, 300 ms: nearest-rank p50 and p95.
    assert (page["stats"]["p50_ms"], page["stats"]["p95_ms"]) == (200.0, 300.0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("user=ada", ["s1"]),
        ("tag=demo", ["s1"]),
        ("tag=dem", []),
        ("text=forecast", ["s1"]),
        ("text=onerror", ["s2"]),
        ("text=100%25", []),  # a LIKE wildcard in the text is literal
        (f"from={(T0 + 4000 * MS) // MS}", ["s2"]),
        (f"to={(T0 + 4000 * MS) // MS}", ["s1"]),
    ],
)
def test_list_filters(viewer: server.Viewer, query: str, expected: list[str]) -> None:
    page = get_json(viewer, f"/api/sessions?{query}")
    assert [r["session_id"] for r in page["rows"]] == expected
    if expected == ["s1"]:
        assert page["rows"][0]["traces"] == 2  # a filter picks sessions; it does not cut them


def test_text_and_tags_beyond_ascii_are_found(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    write(
        path,
        [
            row(
                1,
                1,
                session_id="unicode",
                attributes={
                    semconv.SPAN_OUTPUT: json.dumps('un café "serré"'),
                    semconv.SPAN_TAGS: ["émoji-🙂", 'say "hi"'],
                },
            ),
            row(2, 1, session_id="other", attributes={semconv.SPAN_TAGS: ["plain"]}),
        ],
    )
    with queries.connect(str(path)) as connection:
        for filters in (
            queries.Filters(text="café"),
            queries.Filters(text='"serré"'),
            queries.Filters(tag="émoji-🙂"),
            queries.Filters(tag='say "hi"'),
        ):
            rows = queries.session_rows(connection, filters, limit=10)
            assert [r["session_id"] for r in rows] == ["unicode"], filters
        assert queries.session_rows(connection, queries.Filters(tag="émoji"), limit=10) == []


def test_users_and_traces(viewer: server.Viewer) -> None:
    users = get_json(viewer, "/api/users")
    assert [(u["user_id"], u["sessions"], u["traces"]) for u in users["rows"]] == [
        ("bob", 1, 1),
        ("ada", 1, 2),
    ]
    traces = get_json(viewer, "/api/traces?user=ada")
    assert [t["trace_id"][-1] for t in traces["rows"]] == ["2", "1"]
    assert traces["rows"][0]["input"] == {"role": "user", "text": "and tomorrow?"}
    assert traces["rows"][0]["output"] == {"role": "assistant", "text": "Rain tomorrow"}
    assert traces["rows"][0]["errors"] == 1
    assert traces["stats"]["traces"] == 2


def test_session_is_a_conversation(viewer: server.Viewer) -> None:
    page = get_json(viewer, "/api/session?id=s1")
    assert [(t["input"]["text"], t["output"]["text"]) for t in page["turns"]] == [
        ("weather in Paris?", "Sunny in Paris"),
        ("and tomorrow?", "Rain tomorrow"),
    ]
    assert page["users"] == ["ada"]
    assert request(viewer, "/api/session?id=nope")[0] == 404


def test_trace_tree_and_span_panel(viewer: server.Viewer) -> None:
    page = get_json(viewer, f"/api/trace?id={2:032x}")
    assert [(s["name"], s["depth"], s["kind"]) for s in page["spans"]] == [
        ("agent", 0, "agent"),
        ("chat gpt-4o-mini", 1, "llm"),
        ("get_weather", 1, "tool"),
    ]
    _, llm, tool = page["spans"]
    assert (llm["offset_ms"], llm["duration_ms"]) == (10.0, 30.0)
    assert llm["model"] == "gpt-4o-mini"
    assert llm["provider"] == "openai"
    assert llm["usage"] == {"input": 100, "output": 20}
    assert ["temperature", "0.2"] in llm["parameters"]
    assert llm["tags"] == ["demo"]
    sections = {s["label"]: s for s in llm["sections"]}
    assert sections["input messages"]["chat"] == [{"role": "user", "text": "and tomorrow?"}]
    assert sections["output messages"]["chat"] == [{"role": "assistant", "text": "Rain tomorrow"}]
    assert tool["tool"] == "get_weather"
    assert tool["status"] == "ERROR"
    assert tool["error_type"] == "ValueError"
    assert tool["exceptions"] == [
        {"type": "ValueError", "message": "no forecast", "stacktrace": "Traceback ..."}
    ]
    assert {s["label"]: s["text"] for s in tool["sections"]} == {
        "tool arguments": '{\n  "city": "Paris"\n}'  # JSON shown pretty-printed
    }
    assert page["errors"] == 1


def test_poll_reports_traces_written_since_its_cursor(viewer: server.Viewer, store: Path) -> None:
    first = get_json(viewer, "/api/poll")
    assert first["new_traces"] == []
    assert get_json(viewer, f"/api/poll?since={first['cursor']}")["new_traces"] == []
    write(store, [row(9, 1, name="late", session_id="s9")])
    later = get_json(viewer, f"/api/poll?since={first['cursor']}")
    assert later["new_traces"] == [f"{9:032x}"]
    assert later["cursor"] > first["cursor"]


def test_no_store_yet_is_a_404_with_a_message(tmp_path: Path) -> None:
    running = server.start(str(tmp_path / "none.db"))
    try:
        status, _, body = request(running, "/api/sessions")
    finally:
        running.shutdown()
        running.server_close()
    assert status == 404
    assert "no traces yet" in json.loads(body)["error"]
    assert not (tmp_path / "none.db").exists()  # read-only: the UI creates nothing


def test_the_ui_never_writes_the_store(viewer: server.Viewer, store: Path) -> None:
    before = store.read_bytes()
    for path in ("/api/sessions", "/api/users", "/api/traces", "/api/session?id=s1"):
        get_json(viewer, path)
    assert store.read_bytes() == before


# -- cost ----------------------------------------------------------------------------------------


def test_cost_of_a_known_model_and_none_for_an_unknown_one(viewer: server.Viewer) -> None:
    pytest.importorskip("genai_prices")
    traces = {t["name"]: t for t in get_json(viewer, "/api/traces")["rows"]}
    assert traces["agent"]["cost"] > 0
    assert traces["render"]["cost"] is None  # an unknown model has no cost, not zero
    sessions = {s["session_id"]: s for s in get_json(viewer, "/api/sessions")["rows"]}
    expected = 2 * costs.cost(costs.Usage("gpt-4o-mini", "openai", 100, 20, start_ns=T0))  # type: ignore[operator]
    assert sessions["s1"]["cost"] == pytest.approx(expected)
    assert sessions["s2"]["cost"] is None


def test_cost_reads_provider_spellings_and_cache_counts() -> None:
    pytest.importorskip("genai_prices")
    plain = costs.cost(costs.Usage("gpt-4o-mini", "openai", 1000, 100, start_ns=T0))
    cached = costs.cost(costs.Usage("gpt-4o-mini", "openai", 1000, 100, 800, start_ns=T0))
    assert plain is not None
    assert cached is not None
    assert cached < plain
    assert costs.cost(costs.Usage("gpt-4o-mini", "a-provider-nobody-knows", 1, 1)) is not None
    assert costs.cost(costs.Usage("gpt-4o-mini", "openai", None, None)) is None
    assert costs.cost(costs.Usage(None, "openai", 5, 5)) is None


def test_no_price_table_means_no_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costs, "_table", lambda: None)
    costs._priced.cache_clear()
    try:
        assert costs.cost(costs.Usage("gpt-4o-mini", "openai", 10, 10)) is None
        assert not costs.available()
    finally:
        costs._priced.cache_clear()


# -- safety --------------------------------------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@pytest.mark.parametrize(
    "path", ["/", "/app.js", "/app.css", "/api/sessions", "/api/trace?id=0", "/nowhere"]
)
def test_every_response_carries_the_security_headers(viewer: server.Viewer, path: str) -> None:
    _, headers, _ = request(viewer, path)
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",  # a name rebound to 127.0.0.1 (DNS rebinding)
        "127.0.0.1:1",
        "127.0.0.1",
        "localhost.evil.example:{port}",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(viewer: server.Viewer, host: str) -> None:
    for path in ("/", "/api/sessions"):
        status, headers, body = request(viewer, path, host=host.format(port=viewer.port))
        assert status == 403
        assert b"ada" not in body
        assert headers["content-security-policy"] == CSP


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_the_bound_address_and_localhost_are_accepted(viewer: server.Viewer, host: str) -> None:
    assert request(viewer, "/api/sessions", host=host.format(port=viewer.port))[0] == 200


def test_a_cross_site_request_is_refused(viewer: server.Viewer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", viewer.port, timeout=10)
    connection.request(
        "GET",
        "/api/sessions",
        headers={"Host": f"127.0.0.1:{viewer.port}", "Sec-Fetch-Site": "cross-site"},
    )
    assert connection.getresponse().status == 403
    connection.close()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_get_only(viewer: server.Viewer, method: str) -> None:
    status, headers, _ = request(viewer, "/api/sessions", method=method)
    assert status == 405
    assert headers["allow"] == "GET"


@pytest.mark.parametrize(
    "path", ["/../pyproject.toml", "/static/../server.py", "/server.py", "/%2e%2e/cli.py"]
)
def test_only_the_listed_files_are_served(viewer: server.Viewer, path: str) -> None:
    assert request(viewer, path)[0] == 404


def test_span_text_reaches_the_page_as_json_text(viewer: server.Viewer) -> None:
    status, headers, body = request(viewer, f"/api/trace?id={3:032x}")
    assert status == 200
    assert headers["content-type"] == "application/json"  # never sniffed as HTML (nosniff)
    (span,) = json.loads(body)["spans"]
    assert {s["label"]: s["text"] for s in span["sections"]}["output"] == XSS


def test_the_page_inserts_text_only_and_loads_nothing_from_elsewhere() -> None:
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "new Function" not in script
    for name in ("index.html", "app.js", "app.css", "favicon.svg"):
        text = (STATIC / name).read_text()
        # No other host: no absolute or protocol-relative URL (the SVG's namespace aside).
        urls = re.findall(r"(?:https?:)?//[\w.-]+", text.replace("http://www.w3.org/2000/svg", ""))
        assert [u for u in urls if not u.startswith("//")] == [], name
    page = (STATIC / "index.html").read_text()
    assert "<script>" not in page  # no inline script: the CSP would refuse it anyway
    assert "style=" not in page


def test_binding_beyond_loopback_needs_allow_remote(tmp_path: Path) -> None:
    with pytest.raises(server.RemoteRefusedError):
        server.open_viewer(str(tmp_path / "t.db"), host="0.0.0.0", port=0, allow_remote=False)
    result = cli("ui", "--host", "0.0.0.0", "--port", "0", "--no-open", cwd=tmp_path)
    assert result.returncode == 1
    assert "--allow-remote" in result.stderr


def test_allow_remote_warns_and_accepts_only_addresses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    viewer = server.open_viewer(str(tmp_path / "t.db"), host="0.0.0.0", port=0, allow_remote=True)
    try:
        assert "warning: serving 0.0.0.0" in capsys.readouterr().err
        port = viewer.port
        assert viewer.accepts_host(f"192.0.2.7:{port}")
        assert viewer.accepts_host(f"localhost:{port}")
        assert not viewer.accepts_host(f"evil.example:{port}")
        assert not viewer.accepts_host("192.0.2.7:1")
    finally:
        viewer.server_close()


def test_the_command_serves_and_prints_its_url(store: Path, tmp_path: Path) -> None:
    command = ["ui", "--store", str(store), "--port", "0", "--no-open"]
    process = subprocess.Popen(
        [sys.executable, "-m", "traceroot.cli", *command],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        connection.request("GET", "/api/sessions", headers={"Host": f"localhost:{match.group(1)}"})
        response = connection.getresponse()
        assert response.status == 200
        assert [r["session_id"] for r in json.loads(response.read())["rows"]] == ["s2", "s1"]
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_import_and_instrument_never_load_the_ui() -> None:
    code = (
        "import sys, traceroot; traceroot.instrument(exporter='none'); "
        "print(sorted(m for m in sys.modules if m.startswith(('traceroot.ui', 'traceroot.costs',"
        " 'genai_prices', 'http.server'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


# -- the queries start from the indexes ----------------------------------------------------------


def plan(connection: sqlite3.Connection, sql: str, parameters: list[Any]) -> str:
    return " | ".join(
        str(r[3]) for r in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
    )


def test_queries_use_the_store_indexes(store: Path) -> None:
    with queries.connect(str(store)) as connection:
        sql, parameters = queries._roots_sql(connection, queries.Filters(), "r.trace_id")
        assert "spans_by_start" in plan(connection, f"{sql} ORDER BY r.start_ns DESC", parameters)
        sql, parameters = queries._roots_sql(connection, queries.Filters(user="ada"), "r.trace_id")
        assert "spans_by_user" in plan(connection, sql, parameters)
        roots = (
            f"SELECT * FROM spans WHERE session_id = ? AND {queries.root(connection)} "
            "ORDER BY start_ns"
        )
        assert "spans_by_session" in plan(connection, roots, ["s1"])
        grouped = (
            "SELECT session_id, MAX(end_ns) AS last_ns FROM spans WHERE session_id IS NOT NULL "
            "GROUP BY session_id ORDER BY last_ns DESC"
        )
        assert "spans_by_session" in plan(connection, grouped, [])
        trace = "SELECT * FROM spans WHERE trace_id = ? ORDER BY start_ns"
        assert "sqlite_autoindex_spans_1" in plan(connection, trace, ["x"])


# -- the CLI's cost column -----------------------------------------------------------------------


def test_cli_sessions_and_traces_show_cost_or_a_dash(store: Path) -> None:
    priced = costs.available()
    sessions = cli("sessions", "--store", str(store))
    assert sessions.returncode == 0, sessions.stderr
    lines = {line.split()[0]: line for line in sessions.stdout.splitlines()[1:]}
    assert "—" in lines["s2"]  # an unknown model: no cost, not "$0"
    assert ("$" in lines["s1"]) is priced
    assert ("—" in lines["s1"]) is not priced
    traces = cli("traces", "--store", str(store), "--json")
    found = {row["root_name"]: row["cost"] for row in json.loads(traces.stdout)}
    assert found["render"] is None
    assert (found["agent"] is not None) is priced
    assert "$0.000000" not in cli("traces", "--store", str(store)).stdout


def test_a_trace_below_a_remote_parent_is_listed(tmp_path: Path) -> None:
    """A service's trace starts below another process's span (a propagated request): its local
    root has a remote parent, and it is listed like any trace, with its session."""
    from .conftest import run_script

    result = run_script(
        """
        import traceroot
        from opentelemetry import propagate
        traceroot.instrument()

        @traceroot.observe(type="agent", name="handle_request")
        def handle_request(question):
            return "answered"

        incoming = {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "baggage": "session.id=chat-43,user.id=ada",
        }
        from opentelemetry import context
        token = context.attach(propagate.extract(incoming))
        handle_request("hello")
        context.detach(token)
        traceroot.flush()
        """,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    running = server.start(str(tmp_path / ".traceroot" / "traces.db"))
    try:
        traces = get_json(running, "/api/traces")["rows"]
        assert [t["trace_id"] for t in traces] == ["0af7651916cd43dd8448eb211c80319c"]
        sessions = get_json(running, "/api/sessions")["rows"]
        assert [(s["session_id"], s["user_id"], s["traces"]) for s in sessions] == [
            ("chat-43", "ada", 1)
        ]
        turns = get_json(running, "/api/session?id=chat-43")
        assert len(turns["turns"]) == 1
    finally:
        running.shutdown()
        running.server_close()
