"""What ``import traceroot; traceroot.instrument()`` loads and starts (the start-up budget, issue
19): no framework, none of traceroot's integration packages but the one whose module is always
imported (threading), no thread pool for the resource, and the local store only at the first
export. The time itself is measured by benchmarks/startup.py, never asserted here."""

from __future__ import annotations

import json
from pathlib import Path

from traceroot.integrations.discovery import BUILT_IN

from .conftest import run_script

PROBE = """
import json, sys, threading
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
import traceroot
from traceroot.integrations.discovery import BUILT_IN

def loaded():
    own = sorted(name for name in BUILT_IN if f"traceroot.integrations.{name}" in sys.modules)
    others = sorted(m for m in ("traceroot.store", "traceroot.records", "sqlite3",
                                "concurrent.futures.thread") if m in sys.modules)
    return {"integrations": own, "modules": others,
            "threads": sorted(t.name for t in threading.enumerate())}

traceroot.instrument()
at_start = loaded()
with traceroot.start_span("first"):
    pass
flushed = traceroot.flush(5)
print(json.dumps({"at_start": at_start, "flushed": flushed, "after_export": loaded()}))
"""


def test_instrument_loads_only_what_set_up_needs(tmp_path: Path) -> None:
    result = run_script(PROBE, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert "threading" in BUILT_IN
    assert out["at_start"]["integrations"] == ["threading"]
    assert out["at_start"]["modules"] == []
    threads = out["at_start"]["threads"]
    assert len(threads) == 2  # the main thread and the export thread, no pool's
    assert "MainThread" in threads
    assert not any("ThreadPoolExecutor" in name for name in threads)
    # The first export loads the store, in the export thread, and writes the span.
    assert out["flushed"] is True
    assert out["after_export"]["modules"] == ["sqlite3", "traceroot.records", "traceroot.store"]
    assert (tmp_path / ".traceroot" / "traces.db").is_file()
