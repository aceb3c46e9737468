"""Local stores written row by row, for the CLI's tests: exact names, depths and corruptions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # this checkout's traceroot, in subprocesses too


def row(
    trace: int,
    span: int,
    parent: int | None = None,
    *,
    name: str = "step",
    start_ns: int | None = None,
    end_ns: int | None = None,
    **columns: Any,
) -> tuple[Any, ...]:
    """A stored row in the column order of :class:`traceroot.records.StoredSpan`."""
    start = start_ns if start_ns is not None else time.time_ns()
    values: dict[str, Any] = {
        "trace_id": f"{trace:032x}",
        "span_id": f"{span:016x}",
        "parent_id": None if parent is None else f"{parent:016x}",
        "name": name,
        "kind": "span",
        "start_ns": start,
        "end_ns": end_ns if end_ns is not None else start + 1_000_000,
        "status": "UNSET",
        "status_message": None,
        "session_id": None,
        "user_id": None,
        "service_name": "svc",
        "model": None,
        "input_tokens": None,
        "output_tokens": None,
        "attributes": {},
        "events": [],
        **columns,
    }
    for key in ("attributes", "events"):
        if not isinstance(values[key], str):  # a str is written as is: a corrupt row
            values[key] = json.dumps(values[key])
    return tuple(values.values())


def write(path: Path, rows: list[tuple[Any, ...]]) -> None:
    from traceroot.store import SpanStore

    store = SpanStore(str(path))
    store.write(rows)
    store.close()


def chain(trace: int, depth: int, start_ns: int = 1_700_000_000_000_000_000) -> list[Any]:
    """One trace ``depth`` spans deep: each span the only child of the one before."""
    return [
        row(trace, level + 1, level or None, name=f"level-{level}", start_ns=start_ns + level)
        for level in range(depth)
    ]


def environment(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEROOT_", "OTEL_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(extra)
    return clean


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``traceroot ARGS`` in a fresh interpreter, this checkout's code, no traceroot settings."""
    return subprocess.run(
        [sys.executable, "-m", "traceroot.cli", *args],
        cwd=cwd,
        env=environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
