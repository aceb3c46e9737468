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


def test_an_sqlite_file_of_something_else_is_refused_and_left_untouched(tmp_path: Path) -> None:
    import sqlite3

    app_db = tmp_path / "app.db"
    with sqlite3.connect(app_db) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO users (name) VALUES ('alice')")
    connection.close()
    before = app_db.read_bytes()
    result = run_script(
        """
import traceroot
from traceroot import observe
traceroot.instrument(integrations=[])

@observe
def step(i):
    return i * 2

assert [step(i) for i in range(5)] == [0, 2, 4, 6, 8]
print("FLUSH", traceroot.flush(5), traceroot.export_failures())
[step(i) for i in range(5)]
traceroot.flush(5)
print("APP FINISHED")
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_STORE_PATH": str(app_db)},
    )
    assert result.returncode == 0, result.stderr
    assert "FLUSH False 5" in result.stdout
    assert "APP FINISHED" in result.stdout
    assert result.stderr.count("is an SQLite database that is not a traceroot store") == 1
    assert "its tables: users" in result.stderr
    assert "Traceback" not in result.stderr
    # Byte for byte as it was: no tables added, the journal mode not switched to WAL.
    assert app_db.read_bytes() == before
    assert not (tmp_path / "app.db-wal").exists()
    with sqlite3.connect(app_db) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    connection.close()
    assert (tables, mode) == (["users"], "delete")


def test_an_existing_traceroot_store_and_an_empty_file_are_used(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (empty, empty):  # the second run finds the store the first one made
        result = run_script(
            "import traceroot\ntraceroot.instrument(integrations=[])\n"
            "traceroot.observe(lambda: 1)()\nprint('FLUSH', traceroot.flush(5))\n",
            cwd=str(tmp_path),
            env={"TRACEROOT_STORE_PATH": str(path)},
        )
        assert "FLUSH True" in result.stdout, result.stderr
