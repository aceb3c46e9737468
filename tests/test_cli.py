"""The ``traceroot`` command over a store written by a real instrumented run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import run_script
from .otlp_receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]  # this checkout's traceroot, in subprocesses too

RUN = """
import traceroot
from traceroot import observe, using_attributes, update_current_span

@observe(type="tool")
def lookup(q):
    return ["doc about " + q]

@observe(type="llm")
def model(q):
    update_current_span(model="m-1", usage={"input_tokens": 5, "output_tokens": 3})
    return "answer"

@observe(type="agent")
def agent(q):
    lookup(q)
    return model(q)

@observe
def broken():
    raise ValueError("nope")

traceroot.instrument()
with using_attributes(session_id="s-cli", user_id="u-cli"):
    agent("otters")
    agent("paris")
try:
    broken()
except ValueError:
    pass
traceroot.flush()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli")
    result = run_script(RUN, cwd=str(directory), env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    return directory / ".traceroot" / "traces.db"


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEROOT_", "OTEL_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "traceroot.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sessions(store: Path) -> None:
    table = cli("sessions", "--store", str(store))
    assert table.returncode == 0, table.stderr
    assert "s-cli" in table.stdout
    (row,) = json.loads(cli("sessions", "--json", "--store", str(store)).stdout)
    assert (row["session_id"], row["traces"], row["tokens"], row["errors"]) == ("s-cli", 2, 16, 0)


def test_traces_filters_and_order(store: Path) -> None:
    rows = json.loads(cli("traces", "--json", "--store", str(store)).stdout)
    assert [row["root_name"] for row in rows] == ["broken", "agent", "agent"]
    assert rows[0]["errors"] == 1
    mine = json.loads(cli("traces", "--json", "--session", "s-cli", "--store", str(store)).stdout)
    assert len(mine) == 2
    assert (
        json.loads(
            cli("traces", "--json", "--user", "u-cli", "--limit", "1", "--store", str(store)).stdout
        )[0]["root_name"]
        == "agent"
    )
    table = cli("traces", "--store", str(store)).stdout
    assert "ERROR" in table.splitlines()[1]


def test_show_tree_by_prefix_plain_when_piped(store: Path) -> None:
    rows = json.loads(cli("traces", "--json", "--session", "s-cli", "--store", str(store)).stdout)
    prefix = rows[0]["trace_id"][:10]
    shown = cli("show", prefix, "--store", str(store))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"trace {rows[0]['trace_id']}  session=s-cli  user=u-cli"
    assert lines[1].startswith("  [agent] agent")
    assert lines[2].startswith("    [tool] lookup")
    assert lines[3].startswith("    [llm] model")
    assert "model=m-1" in lines[3]
    assert "tokens=5+3" in lines[3]
    assert "\033[" not in shown.stdout
    verbose = cli("show", prefix, "--verbose", "--store", str(store)).stdout
    assert 'input: {"q":"paris"}' in verbose or 'input: {"q":"otters"}' in verbose
    spans = json.loads(cli("show", prefix, "--json", "--store", str(store)).stdout)
    assert {span["name"] for span in spans} == {"agent", "lookup", "model"}


def test_show_failed_trace_marks_the_error(store: Path) -> None:
    rows = json.loads(cli("traces", "--json", "--store", str(store)).stdout)
    shown = cli("show", rows[0]["trace_id"], "--store", str(store)).stdout
    assert "ERROR ValueError" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "ffffffffffff"), "no trace id starts with"),
        (("show", ""), "is ambiguous"),
    ],
)
def test_show_problems_are_one_line(store: Path, args: tuple[str, ...], message: str) -> None:
    result = cli(*args, "--store", str(store))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def one_line_failure(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_empty_and_corrupt_stores(tmp_path: Path) -> None:
    one_line_failure(cli("traces", "--store", str(tmp_path / "none.db")), "no traces yet")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    one_line_failure(cli("sessions", "--store", str(corrupt)), "cannot read")
    blank = tmp_path / "blank.db"
    blank.touch()
    one_line_failure(cli("show", "abc", "--store", str(blank)), "cannot read")
    from traceroot.store import SpanStore

    empty = tmp_path / "empty.db"
    SpanStore(str(empty)).write([])
    one_line_failure(cli("traces", "--store", str(empty)), "is empty")


def test_locked_store(store: Path, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    copy = tmp_path / "locked.db"
    shutil.copy(store, copy)
    holder = sqlite3.connect(copy)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        one_line_failure(cli("traces", "--store", str(copy)), "is locked")
    finally:
        holder.rollback()
        holder.close()


def test_default_store_is_the_working_directory(store: Path) -> None:
    result = cli("traces", "--json", cwd=store.parent.parent)
    assert len(json.loads(result.stdout)) == 3


def test_export_replays_spans_to_an_otlp_endpoint(store: Path, receiver: Receiver) -> None:
    result = cli(
        "export",
        "--endpoint",
        f"{receiver.url}/api/v1/public/traces",
        "--header",
        "Authorization=Bearer tr-later",
        "--store",
        str(store),
    )
    assert result.returncode == 0, result.stderr
    assert "exported 7 spans" in result.stdout
    request = receiver.requests[0]
    assert request.path == "/api/v1/public/traces"
    assert request.headers["authorization"] == "Bearer tr-later"
    spans = receiver.spans()
    assert spans["lookup"]["session.id"] == "s-cli"
    assert spans["model"]["gen_ai.usage.input_tokens"] == 5


def test_tail_prints_traces_as_they_complete(tmp_path: Path) -> None:
    first = run_script(RUN, cwd=str(tmp_path), env={"PYTHONPATH": str(ROOT)})
    assert first.returncode == 0, first.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEROOT_")}
    env["PYTHONPATH"] = str(ROOT)
    tail = subprocess.Popen(
        [sys.executable, "-m", "traceroot.cli", "tail", "--interval", "0.1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        second = run_script(
            "import traceroot\ntraceroot.instrument()\n"
            "@traceroot.observe\ndef fresh():\n    return 1\nfresh()\n",
            cwd=str(tmp_path),
            env={"PYTHONPATH": str(ROOT)},
        )
        assert second.returncode == 0, second.stderr
        time.sleep(1.5)
    finally:
        tail.send_signal(signal.SIGINT)  # handled even where SIGINT was inherited as ignored
        out, err = tail.communicate(timeout=10)
    assert tail.returncode == 0, err
    assert "[span] fresh" in out
    assert "agent" not in out  # traces from before tail started are not printed
