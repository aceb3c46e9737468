"""The examples keep working, offline, as the README runs them."""

from __future__ import annotations

from pathlib import Path

from traceroot.store import SpanStore

from .conftest import run_python

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, cwd: Path) -> str:
    """Run an example as the README does: ``python examples/<name>``."""
    result = run_python([str(EXAMPLES / name)], cwd=str(cwd), timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_langgraph_agent(tmp_path: Path) -> None:
    out = run_example("quickstart.py", tmp_path)
    assert out.count("> ") == 2
    assert "Sunny and 21 C in San Francisco" in out
    tree = out.split("$ traceroot show", 1)[1].splitlines()[1:]
    assert tree[0].startswith("trace ")
    assert tree[1].strip().startswith("[agent] LangGraph")
    assert any(line.strip().startswith("[tool] get_weather") for line in tree)
    assert any(
        line.strip().startswith("[llm] chat gpt-4o-mini") and "tokens=" in line for line in tree
    )
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    traces = store.traces(session_id="quickstart-chat")
    assert len(traces) == 2
    for summary in traces:
        spans = store.spans(summary["trace_id"])
        assert {span.session_id for span in spans} == {"quickstart-chat"}
        llm = [span for span in spans if span.kind == "llm"]
        assert llm
        assert all(span.input_tokens for span in llm)  # usage once per model call, on the llm span
        assert all(span.input_tokens is None for span in spans if span.kind != "llm")


def test_observe_basics(tmp_path: Path) -> None:
    out = run_example("observe_basics.py", tmp_path)
    tree = out.split("$ traceroot show", 1)[1].splitlines()
    assert tree[1].startswith("trace ")
    assert tree[2].strip().startswith("[agent] agent")
    assert tree[3].strip().startswith("[tool] search")
    assert tree[4].strip().startswith("[llm] think")


def test_openai_tools(tmp_path: Path) -> None:
    out = run_example("openai_tools.py", tmp_path)
    assert "Sunny and 21 C" in out
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (summary,) = store.traces(session_id="openai-tools-demo")
    names = [span.name for span in store.spans(summary["trace_id"])]
    assert names == ["ask", "chat gpt-4o-mini", "get_weather", "chat gpt-4o-mini"]


def test_llamaindex_rag(tmp_path: Path) -> None:
    out = run_example("llamaindex_rag.py", tmp_path)
    assert "From the documents: Paris has been the capital of France" in out
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    traces = store.traces(session_id="rag-demo")
    assert len(traces) == 2
    for summary in traces:
        spans = store.spans(summary["trace_id"])
        assert spans[0].name == "RetrieverQueryEngine.query"
        assert "retrieval" in {span.attributes.get("gen_ai.operation.name") for span in spans}
