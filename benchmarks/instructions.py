"""Machine instructions per call of the provider benchmarks' variants, counted by callgrind.

The time figures of ``openai_overhead.py`` and ``anthropic_overhead.py`` swing by a third on a
shared machine: an instrumented call adds a few percent to a client call of over a millisecond, so
the client's own noise is as large as the difference being read. The instructions a call executes
do not depend on the machine's load: counted by Valgrind's callgrind, they repeat to 0.1% from run
to run, so ten calls per variant are enough (a case takes a minute or two, mostly imports under
Valgrind). They are not time (cache misses and branch mispredictions cost cycles that no instruction
count shows), so they sit beside the time figures, not in their place: a change that removes
instructions from the hot path shows here at once, whatever the machine is doing.

Each case runs in one process under callgrind, its variants in turn, as in the time benchmarks:
the uninstrumented call, the hand-written span, and traceroot (``instrument()`` before its block,
``uninstrument()`` after). Counting is on only while a variant's calls run: each variant's loop
is driven by a C iterator of its own (``starmap``, ``filterfalse``, ``takewhile``), and the
report reads the instructions spent inside each (callgrind's inclusive cost of that function).
Without ``valgrind`` on the PATH the report says so and exits.

    python benchmarks/instructions.py [--calls 10]
"""

from __future__ import annotations

import argparse
import collections
import gc
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

# Each case: the benchmark module that defines it, and its label there.
CASES: Final = {
    "OpenAI chat": ("openai_overhead", "chat"),
    "OpenAI stream (24 chunks)": ("openai_overhead", "stream"),
    "OpenAI chat, 50 messages": ("openai_overhead", "chat, 50 messages"),
    "Anthropic create": ("anthropic_overhead", "create"),
    "Anthropic stream (20 deltas)": ("anthropic_overhead", "stream"),
}
INTEGRATION: Final = {"openai_overhead": "openai", "anthropic_overhead": "anthropic"}
# The C function whose calls run each variant's block, in the order the variants run.
MARKERS: Final = {"bare": "starmap_next", "hand": "filterfalse_next", "traceroot": "takewhile_next"}


def run_variants(module_name: str, case: str, calls: int) -> None:
    """Inside callgrind: each variant's block of ``calls``, under its own marker function."""
    import importlib

    from _common import set_up_tracing

    import traceroot

    module = importlib.import_module(module_name)
    set_up_tracing()
    client = module.mocked_client()
    integration = INTEGRATION[module_name]
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        bare, hand = module.cases(client)[case]
        traceroot.instrument(integrations=[integration])
        _warm(bare)
        traceroot.uninstrument()
        _warm(bare)
        _warm(hand)
        gc.collect()
        gc.freeze()  # as in the time benchmarks: a collection costs what the calls allocated
        repeat = itertools.repeat
        _drain(itertools.starmap(bare, repeat((), calls)))
        _drain(itertools.filterfalse(lambda _: _called(hand), repeat(None, calls)))
        traceroot.instrument(integrations=[integration])
        _drain(itertools.takewhile(lambda _: not _called(bare), repeat(None, calls)))
        traceroot.uninstrument()


def _warm(fn: Callable[[], object]) -> None:
    # Past CPython's specializing of a function's bytecode (after 8 calls in 3.11): a variant
    # counted before its code is specialized runs more instructions per call, traceroot's many
    # small functions most (5 warm-up calls gave it 10-15% more than 20 did).
    for _ in range(12):
        fn()


def _called(fn: Callable[[], object]) -> bool:
    fn()
    return False


def _drain(iterator: Any) -> None:
    collections.deque(iterator, maxlen=0)


def count(label: str, calls: int) -> dict[str, float]:
    """Instructions per call of each variant of one case, from one process under callgrind."""
    module_name, case = CASES[label]
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--collect-atstart=no",
            *(f"--toggle-collect={marker}" for marker in MARKERS.values()),
            sys.executable,
            __file__,
            "--inner",
            module_name,
            case,
            "--calls",
            str(calls),
        ]
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(command, check=True, capture_output=True, env=environment)
        annotated = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", out],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    totals = {}
    for variant, marker in MARKERS.items():
        found = re.search(rf"^\s*([\d,]+) .*:{marker} ", annotated, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"callgrind counted nothing under {marker} for {label}")
        totals[variant] = int(found.group(1).replace(",", "")) / calls
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--inner", nargs=2, metavar=("MODULE", "CASE"))
    args = parser.parse_args()
    if args.inner:
        run_variants(*args.inner, args.calls)
        return
    print(
        "Instructions per call (callgrind; deterministic, not time), over the uninstrumented call"
    )
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("  valgrind is not installed: skipped (apt-get install valgrind)")
        return
    # Two at a time: each process spends most of its minute importing under Valgrind.
    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = pool.map(lambda label: count(label, args.calls), CASES)
        results = dict(zip(CASES, counted, strict=True))
    for label, totals in results.items():
        bare = totals["bare"]
        hand, ours = totals["hand"] - bare, totals["traceroot"] - bare
        print(f"  {label}")
        print(f"    {'uninstrumented':<30}{bare / 1000:10.1f} k")
        print(f"    {'hand-written span, same attrs':<30}{hand / 1000:+10.1f} k")
        print(f"    {'traceroot':<30}{ours / 1000:+10.1f} k  ({ours / hand:.2f}x hand-written)")


if __name__ == "__main__":
    main()
