"""Start-up cost: ``import traceroot; traceroot.instrument()`` over importing the OTel SDK alone.

Each figure is the median of fresh interpreters run alternately in one go, so both sides see the
same machine load. Spans go to the local store (the default), in a temporary directory. The report
also lists every AI-framework or OTLP-exporter module that set-up imported (budget: none).

    python benchmarks/startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

BUDGET_MS = 50.0
FRAMEWORKS = ("openai", "langchain", "langchain_core", "langgraph", "llama_index")

BASELINE = """
import time, json
t = time.perf_counter()
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
print(json.dumps({"ms": (time.perf_counter() - t) * 1000}))
"""

TRACEROOT = """
import time, json, sys
t = time.perf_counter()
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
import traceroot
traceroot.instrument()
ms = (time.perf_counter() - t) * 1000
frameworks = %r
loaded = sorted(m for m in sys.modules
                if m.split(".")[0] in frameworks or m.startswith("opentelemetry.exporter"))
installed = []
import importlib.util
for name in frameworks:
    try:
        if importlib.util.find_spec(name) is not None:
            installed.append(name)
    except (ImportError, ValueError):
        pass
print(json.dumps({"ms": ms, "loaded": loaded, "installed": installed}))
""".replace("%r", repr(FRAMEWORKS))


def run(code: str, cwd: str) -> dict[str, object]:
    # Bytecode is written and reused, as after `pip install`: tox sets PYTHONDONTWRITEBYTECODE,
    # under which every run would compile traceroot's source again and measure the compiler.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    baseline, ours = [], []
    last: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as cwd:
        run(TRACEROOT, cwd)  # write the bytecode caches once, for both sides
        for _ in range(args.runs):
            baseline.append(float(run(BASELINE, cwd)["ms"]))  # type: ignore[arg-type]
            last = run(TRACEROOT, cwd)
            ours.append(float(last["ms"]))  # type: ignore[arg-type]
    base_ms, ours_ms = statistics.median(baseline), statistics.median(ours)
    over = ours_ms - base_ms
    print("start-up: import traceroot; traceroot.instrument()  (local store)")
    print(f"  runs                          {args.runs} of each, alternating")
    print(f"  OTel SDK import alone         {base_ms:7.1f} ms (median)")
    print(f"  SDK + traceroot set-up        {ours_ms:7.1f} ms (median)")
    status = "within" if over <= BUDGET_MS else "OVER"
    print(
        f"  traceroot's share             {over:7.1f} ms  ({status} the {BUDGET_MS:.0f} ms budget)"
    )
    print(f"  frameworks installed          {', '.join(last['installed']) or 'none'}")  # type: ignore[arg-type]
    print(f"  framework/OTLP modules loaded {last['loaded'] or 'none'}")


if __name__ == "__main__":
    main()
