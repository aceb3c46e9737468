"""Spans made in multiprocessing workers reach the store before the worker exits."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from traceroot.store import SpanStore

from ..conftest import run_python

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and forkserver are POSIX")

APP = """
import concurrent.futures, multiprocessing, sys
import traceroot

traceroot.instrument(integrations=[])

@traceroot.observe
def job(i):
    return i * 2

def many(n):
    for i in range(n):
        job(i)

if __name__ == "__main__":
    how = sys.argv[1]
    if how == "pool":
        with multiprocessing.get_context("fork").Pool(2) as pool:  # leaving terminates it
            assert pool.map(job, range(20)) == [i * 2 for i in range(20)]
    elif how == "pool-closed":
        pool = multiprocessing.get_context("fork").Pool(2)
        assert pool.map(job, range(20)) == [i * 2 for i in range(20)]
        pool.close()
        pool.join()
    elif how == "executor":
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
            assert list(executor.map(job, range(20))) == [i * 2 for i in range(20)]
    else:
        process = multiprocessing.get_context(how).Process(target=many, args=(100,))
        process.start()
        process.join()
        assert process.exitcode == 0, process.exitcode
    print("DONE")
"""


@pytest.mark.parametrize(
    ("how", "made"),
    [("pool", 20), ("pool-closed", 20), ("executor", 20), ("forkserver", 100), ("fork", 100)],
)
def test_spans_of_workers_are_stored(tmp_path: Path, how: str, made: int) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    started = time.monotonic()
    result = run_python([str(app), how], cwd=str(tmp_path), timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "DONE" in result.stdout
    assert "traceroot" not in result.stderr, result.stderr  # no warning, nothing dropped
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    rows = store.query("SELECT name, COUNT(*) AS n FROM spans GROUP BY name")
    assert [(row["name"], row["n"]) for row in rows] == [("job", made)]
    assert elapsed < 30  # each worker's flush is quick: the store is local
