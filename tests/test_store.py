from __future__ import annotations

from pathlib import Path

from .conftest import run_script

WRITER = """
import sys, threading
import traceroot
from traceroot import observe, using_attributes

traceroot.instrument()

@observe
def step(i):
    return i

def work(process, thread):
    for n in range(50):
        with using_attributes(session_id=f"p{process}-t{thread}"):
            step(n)

threads = [threading.Thread(target=work, args=(sys.argv[1] if len(sys.argv) > 1 else "{p}", t))
           for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert traceroot.flush(30)
"""


def test_several_processes_and_threads_write_one_store(tmp_path: Path) -> None:
    import subprocess
    import sys

    from traceroot.store import SpanStore

    env_script = WRITER
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", env_script.replace("{p}", str(p))],
            cwd=tmp_path,
            env={**_clean_env(), "TRACEROOT_FLUSH_AT": "7", "TRACEROOT_FLUSH_INTERVAL": "0.01"},
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(4)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert "locked" not in stderr
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (row,) = store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT session_id) AS s FROM spans")
    assert (row["n"], row["s"]) == (4 * 4 * 50, 16)


def _clean_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEROOT_", "OTEL_"))}
    env["TRACEROOT_STRICT"] = "1"
    return env


def test_unwritable_store_warns_once_and_app_runs(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    result = run_script(
        """
import traceroot
from traceroot import observe
traceroot.instrument()

@observe
def step(i):
    return i * 2

assert [step(i) for i in range(5)] == [0, 2, 4, 6, 8]
traceroot.flush(5)
[step(i) for i in range(5)]
traceroot.flush(5)
print("APP FINISHED")
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_STORE_PATH": str(blocker / "traces.db")},
    )
    assert result.returncode == 0, result.stderr
    assert "APP FINISHED" in result.stdout
    assert result.stderr.count("could not write spans") == 1
