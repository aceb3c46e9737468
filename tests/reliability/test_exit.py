"""The exit hook keeps its bound and raises nothing, also where no thread can start at exit.

Python 3.12.0 and 3.12.1 refuse to start a thread once the interpreter is shutting down, atexit
hooks included ("can't create new thread at interpreter shutdown"). These tests run under
whichever Python runs the suite (CI runs it on each supported version), and also imitate that
refusal on any version: an atexit hook registered after traceroot's runs before it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from traceroot.store import SpanStore

from ..conftest import run_script

APP = """
import atexit, sys, threading
import traceroot

traceroot.instrument(integrations=[])

if "--no-threads-at-exit" in sys.argv:
    def refuse(self):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    atexit.register(lambda: setattr(threading.Thread, "start", refuse))

@traceroot.observe
def step(i):
    return i

for i in range(50):
    step(i)
print("MADE")
"""

EXIT_BOUND = 5.0


def _run(tmp_path: Path, no_threads: bool, env: dict[str, str]) -> tuple[str, str, float]:
    script = APP.replace("sys.argv", "['--no-threads-at-exit']" if no_threads else "[]")
    started = time.monotonic()
    result = run_script(script, cwd=str(tmp_path), env=env, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "MADE" in result.stdout
    return result.stdout, result.stderr, elapsed


@pytest.mark.parametrize("no_threads", [False, True], ids=["threads", "no-threads-at-exit"])
def test_pending_spans_are_stored_at_exit(tmp_path: Path, no_threads: bool) -> None:
    _, stderr, _ = _run(tmp_path, no_threads, {})
    assert stderr == ""
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (row,) = store.query("SELECT COUNT(*) AS n FROM spans WHERE name = 'step'")
    assert row["n"] == 50


@pytest.mark.parametrize("no_threads", [False, True], ids=["threads", "no-threads-at-exit"])
def test_exit_keeps_its_bound_when_the_backend_never_answers(
    tmp_path: Path, silent_endpoint: str, no_threads: bool
) -> None:
    _, stderr, elapsed = _run(
        tmp_path,
        no_threads,
        {
            "TRACEROOT_API_KEY": "tr-exit",
            "TRACEROOT_HOST_URL": silent_endpoint,
            "TRACEROOT_TIMEOUT": "30",
        },
    )
    assert "Traceback" not in stderr
    assert "RuntimeError" not in stderr
    assert "spans still being exported after 5.0s at exit were dropped" in stderr
    assert elapsed < EXIT_BOUND + 4  # the bound, plus start-up and a busy machine's slack
