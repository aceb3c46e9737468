"""Start-up cost: ``import traceroot; traceroot.instrument()`` over importing the OTel SDK alone.

Fresh interpreters, run alternately in one go so every side sees the same machine load. Each
figure is a median over the runs of:

- in-process: the import and ``instrument()`` timed inside the interpreter;
- whole process: from spawn to exit (wall clock, so the exit path's flush and joins count), and
  the CPU the process used (user + system: less swayed by other processes on a busy machine).

Spans go to the local store (the default), in a temporary directory. The report also lists every
AI-framework or OTLP-exporter module that set-up imported (budget: none). ``--against DIR`` adds a
third side: the same set-up with traceroot imported from another source tree (a checkout of an
earlier commit), for an A/B of a change in the same run.

    python benchmarks/startup.py [--runs 21] [--against ../traceroot-before]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

BUDGET_MS = 40.0  # whole process, exit included, over the OTel SDK import
FRAMEWORKS = ("openai", "langchain", "langchain_core", "langgraph", "llama_index")

BASELINE = """
import time, json
t = time.perf_counter()
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
print(json.dumps({"ms": (time.perf_counter() - t) * 1000}))
"""

TRACEROOT = """
import time, json, sys
%(path)s
t = time.perf_counter()
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
import traceroot
traceroot.instrument()
ms = (time.perf_counter() - t) * 1000
frameworks = %(frameworks)r
loaded = sorted(m for m in sys.modules
                if m.split(".")[0] in frameworks or m.startswith("opentelemetry.exporter"))
print(json.dumps({"ms": ms, "loaded": loaded, "file": traceroot.__file__}))
"""


def traceroot_code(source: str | None) -> str:
    path = f"sys.path.insert(0, {source!r})" if source else ""
    return TRACEROOT % {"path": path, "frameworks": FRAMEWORKS}


@dataclass
class Side:
    name: str
    code: str
    in_process: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    last: dict[str, object] = field(default_factory=dict)

    def run(self, cwd: str) -> None:
        # Bytecode is written and reused, as after `pip install`: tox sets PYTHONDONTWRITEBYTECODE,
        # under which every run would compile traceroot's source again and measure the compiler.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", self.code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.cpu.append(used * 1000)
        self.last = json.loads(out.strip().splitlines()[-1])
        self.in_process.append(float(self.last["ms"]))  # type: ignore[arg-type]

    def medians(self) -> tuple[float, float, float]:
        return (
            statistics.median(self.in_process),
            statistics.median(self.wall),
            statistics.median(self.cpu),
        )


def installed_frameworks() -> list[str]:
    import importlib.util

    found = []
    for name in FRAMEWORKS:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except (ImportError, ValueError):
            pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--against", help="another traceroot source tree, measured alongside")
    args = parser.parse_args()
    sides = [Side("OTel SDK import alone", BASELINE), Side("SDK + traceroot", traceroot_code(None))]
    if args.against:
        source = os.path.abspath(args.against)
        sides.append(Side("SDK + traceroot (--against)", traceroot_code(source)))
    with tempfile.TemporaryDirectory() as cwd:
        for side in sides:
            side.run(cwd)  # write the bytecode caches once, for every side
            side.wall.clear(), side.cpu.clear(), side.in_process.clear()
        for round_number in range(args.runs):
            # Rotate the order, so no side always runs right after the same one.
            shift = round_number % len(sides)
            for side in sides[shift:] + sides[:shift]:
                side.run(cwd)

    print("start-up: import traceroot; traceroot.instrument()  (local store)")
    print(f"  {args.runs} runs of each side, alternating; medians in ms")
    print(f"  {'':34} {'in-process':>10} {'whole process':>14} {'process CPU':>12}")
    for side in sides:
        in_process, wall, cpu = side.medians()
        print(f"  {side.name:34} {in_process:10.1f} {wall:14.1f} {cpu:12.1f}")
    base = sides[0].medians()
    for side in sides[1:]:
        in_process, wall, cpu = side.medians()
        print(
            f"  {'share: ' + side.name[len('SDK + ') :]:34} {in_process - base[0]:10.1f} "
            f"{wall - base[1]:14.1f} {cpu - base[2]:12.1f}"
        )
    over = sides[1].medians()[1] - base[1]
    status = "within" if over <= BUDGET_MS else "OVER"
    print(f"  whole-process share {over:.1f} ms: {status} the {BUDGET_MS:.0f} ms budget")
    print(f"  frameworks installed          {', '.join(installed_frameworks()) or 'none'}")
    print(f"  framework/OTLP modules loaded {sides[1].last['loaded'] or 'none'}")
    if args.against:
        print(f"  --against imported traceroot from {sides[2].last['file']}")


if __name__ == "__main__":
    main()
