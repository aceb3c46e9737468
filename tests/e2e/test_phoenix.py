"""End to end against a real OpenTelemetry backend: Arize Phoenix, started on 127.0.0.1.

The quickstart agent runs unchanged with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at Phoenix
(OTLP over HTTP, and over gRPC), and Phoenix's REST API must then hold every span with its
session, parent and kind; an ``@observe`` agent and tool must read there as an agent invocation
and a tool execution, with their input. Runs in the ``e2e`` tox environment, which installs Phoenix.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STARTUP_SECONDS = 180
# Per turn: the graph, 3 model nodes x (node, ChatOpenAI, provider call), 2 tool nodes x (node, tool).
EXPECTED_SPANS = 2 * (1 + 3 * 3 + 2 * 2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pytest.importorskip("phoenix")
    http_port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(tmp_path_factory.mktemp("phoenix")),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(http_port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = tmp_path_factory.mktemp("phoenix-log") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "phoenix.server.main", "serve"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Phoenix did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield {"url": url, "grpc": f"http://127.0.0.1:{grpc_port}"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_quickstart(tmp_path: Path, env: dict[str, str], script: Path | None = None) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEROOT_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, str(script or EXAMPLES / "quickstart.py")],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".traceroot").exists()  # the spans went to Phoenix, not the store


def phoenix_spans(url: str, project: str, expected: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        try:
            spans = get_json(f"{url}/v1/projects/{project}/spans?limit=1000")["data"]
        except OSError:
            spans = []
        if len(spans) >= expected or time.monotonic() > deadline:
            return list(spans)
        time.sleep(0.5)


def assert_quickstart_trees(spans: list[dict[str, Any]]) -> None:
    """Two turns of the LangGraph agent: one trace each, every span in the session, whole trees."""
    by_id = {span["context"]["span_id"]: span for span in spans}
    assert len({span["context"]["trace_id"] for span in spans}) == 2
    roots = [span for span in spans if span["parent_id"] is None]
    assert [root["attributes"]["traceroot.span.type"] for root in roots] == ["agent", "agent"]
    for span in spans:
        assert span["attributes"]["session.id"] == "quickstart-chat"
        assert span["attributes"]["user.id"] == "ada"
        if span["parent_id"] is not None:
            parent = by_id[span["parent_id"]]
            assert parent["context"]["trace_id"] == span["context"]["trace_id"]
    kinds = {span["name"]: span["attributes"]["traceroot.span.type"] for span in spans}
    assert kinds["get_weather"] == "tool"
    assert kinds["ChatOpenAI"] == "span"
    assert kinds["chat gpt-4o-mini"] == "llm"
    model_calls = [span for span in spans if span["name"] == "chat gpt-4o-mini"]
    assert all(span["attributes"]["gen_ai.usage.input_tokens"] > 0 for span in model_calls)


def test_otlp_http_into_phoenix(phoenix: dict[str, Any], tmp_path: Path) -> None:
    run_quickstart(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix["url"],
            "OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=e2e-http",
        },
    )
    assert_quickstart_trees(phoenix_spans(phoenix["url"], "e2e-http", EXPECTED_SPANS))


def test_otlp_grpc_into_phoenix(phoenix: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    run_quickstart(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix["grpc"],
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=e2e-grpc",
        },
    )
    assert_quickstart_trees(phoenix_spans(phoenix["url"], "e2e-grpc", EXPECTED_SPANS))


OBSERVED_AGENT = """
import traceroot
from traceroot import observe, using_attributes

traceroot.instrument()

@observe(type="tool")
def get_weather(city: str) -> str:
    return f"Sunny and 21 C in {city}"

@observe(type="agent")
def weather_agent(question: str) -> str:
    return get_weather("Paris") + ", as asked."

with using_attributes(session_id="observed-chat", user_id="ada"):
    weather_agent("What's the weather in Paris?")
traceroot.flush()
"""


def test_observed_agent_and_tool_read_as_genai_spans_in_phoenix(
    phoenix: dict[str, Any], tmp_path: Path
) -> None:
    """Phoenix lists an ``@observe`` agent by its kind, with its input and output, not as
    "unknown": the GenAI operation and OpenInference's kind and values say what it is."""
    script = tmp_path / "observed_agent.py"
    script.write_text(OBSERVED_AGENT)
    run_quickstart(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix["url"],
            "OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=e2e-observed",
        },
        script,
    )
    spans = {span["name"]: span for span in phoenix_spans(phoenix["url"], "e2e-observed", 2)}
    agent, tool = spans["weather_agent"], spans["get_weather"]
    assert tool["parent_id"] == agent["context"]["span_id"]

    assert agent["span_kind"] == "AGENT"
    attributes = agent["attributes"]
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attributes["gen_ai.agent.name"] == "weather_agent"
    assert attributes["gen_ai.conversation.id"] == "observed-chat"
    assert attributes["session.id"] == "observed-chat"
    assert json.loads(attributes["input.value"]) == {"question": "What's the weather in Paris?"}
    assert attributes["input.mime_type"] == "application/json"
    # The output as the function returned it: a string, not a JSON-quoted one.
    assert attributes["output.value"] == "Sunny and 21 C in Paris, as asked."
    assert attributes["traceroot.span.output"] == "Sunny and 21 C in Paris, as asked."

    assert tool["span_kind"] == "TOOL"
    attributes = tool["attributes"]
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["gen_ai.tool.name"] == "get_weather"
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    assert attributes["gen_ai.tool.call.result"] == "Sunny and 21 C in Paris"
    # Phoenix reads a tool's arguments and result from the GenAI names (since 15.10).
    assert attributes["output.value"] == "Sunny and 21 C in Paris"
    assert attributes["tool.name"] == "get_weather"


def test_the_same_run_shaped_for_the_traceroot_cloud(tmp_path: Path) -> None:
    """With TRACEROOT_API_KEY set, the quickstart's spans go as the TraceRoot backend takes them."""
    from tests.otlp_receiver import start_receiver

    receiver, server = start_receiver()
    try:
        run_quickstart(
            tmp_path, {"TRACEROOT_API_KEY": "tr-e2e-key", "TRACEROOT_HOST_URL": receiver.url}
        )
    finally:
        server.shutdown()
    assert {request.path for request in receiver.requests} == {"/api/v1/public/traces"}
    assert {request.headers["authorization"] for request in receiver.requests} == {
        "Bearer tr-e2e-key"
    }
    assert {request.headers["content-type"] for request in receiver.requests} == {
        "application/x-protobuf"
    }
    spans = [span for request in receiver.requests for span in request.spans()]
    assert len(spans) == EXPECTED_SPANS
    assert {attributes["session.id"] for _, attributes in spans} == {"quickstart-chat"}
