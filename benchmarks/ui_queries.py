"""How fast ``traceroot ui`` answers over a large local store: 100k spans by default.

Fills a temporary store through the store's own writer (:class:`traceroot.store.SpanStore`, the
real schema and indexes) with agent runs shaped like the quickstart's: traces of ten spans (an
agent, three model calls with usage and messages, tools), five traces a session, ten sessions a
user. Then times each page the UI asks for, as its API builds it (SQL, shaping, costs): wall
time, median of the rounds, on a fresh read-only connection each, as the server opens one per
request. Figures only, no pass/fail; the budget is the sessions list under a second.

    python benchmarks/ui_queries.py [--spans 100000 --rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from traceroot import costs, semconv
from traceroot.store import SpanStore
from traceroot.ui import queries, views
from traceroot.ui.queries import Filters

SPANS_PER_TRACE = 10
TRACES_PER_SESSION = 5
SESSIONS_PER_USER = 10
T0 = 1_760_000_000_000_000_000


def message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def trace_rows(number: int) -> list[tuple[Any, ...]]:
    """One agent run: agent > (model > llm, tool) x3, each with the attributes ours carry."""
    session = number // TRACES_PER_SESSION
    user = session // SESSIONS_PER_USER
    trace_id = f"{number + 1:032x}"
    start = T0 + number * 2_000_000_000
    question = f"question {number}: what is the weather in city {number % 97}?"
    answer = f"answer {number}: sunny and {number % 30} C"
    context = {semconv.SPAN_TAGS: ["bench", f"tier-{user % 3}"]}
    rows = []

    def add(
        index: int, parent: int | None, name: str, kind: str, offset_ms: int, ms: int, **extra: Any
    ) -> None:
        attributes = {**context, **extra.pop("attributes", {})}
        rows.append(
            (
                trace_id,
                f"{index + 1:016x}",
                None if parent is None else f"{parent + 1:016x}",
                name,
                kind,
                start + offset_ms * 1_000_000,
                start + (offset_ms + ms) * 1_000_000,
                extra.pop("status", "UNSET"),
                None,
                f"session-{session}",
                f"user-{user}",
                "bench",
                extra.pop("model", None),
                extra.pop("input_tokens", None),
                extra.pop("output_tokens", None),
                json.dumps(attributes),
                "[]",
            )
        )

    chat = [message("user", question)]
    add(
        0,
        None,
        "agent",
        "agent",
        0,
        900,
        attributes={
            semconv.SPAN_INPUT: json.dumps({"messages": chat}),
            semconv.SPAN_OUTPUT: json.dumps({"messages": [*chat, message("assistant", answer)]}),
        },
    )
    for step in range(3):
        base = 1 + step * 3
        add(base, 0, "model", "span", step * 300, 200)
        add(
            base + 1,
            base,
            "chat gpt-4o-mini",
            "llm",
            step * 300 + 5,
            190,
            model="gpt-4o-mini",
            input_tokens=300 + step * 50,
            output_tokens=40,
            attributes={
                semconv.GEN_AI_PROVIDER_NAME: "openai",
                semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                semconv.GEN_AI_INPUT_MESSAGES: json.dumps(chat),
                semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps([message("assistant", answer)]),
            },
        )
        add(
            base + 2,
            0,
            "get_weather",
            "tool",
            step * 300 + 210,
            60,
            status="ERROR" if number % 50 == 0 and step == 2 else "UNSET",
            attributes={semconv.GEN_AI_TOOL_CALL_ARGUMENTS: json.dumps({"city": number % 97})},
        )
    return rows[:SPANS_PER_TRACE]


def fill(path: str, spans: int) -> None:
    store = SpanStore(path)
    batch: list[tuple[Any, ...]] = []
    for number in range(spans // SPANS_PER_TRACE):
        batch.extend(trace_rows(number))
        if len(batch) >= 5000:
            store.write(batch)
            batch = []
    if batch:
        store.write(batch)
    store.close()


def timed(path: str, page: Callable[[Any], object], rounds: int) -> float:
    """Median wall milliseconds of ``page`` on a fresh read-only connection."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with queries.connect(path) as connection:
            page(connection)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "traces.db")
        start = time.perf_counter()
        fill(path, arguments.spans)
        filled = time.perf_counter() - start
        traces = arguments.spans // SPANS_PER_TRACE
        middle_trace = f"{traces // 2 + 1:032x}"
        middle_session = f"session-{traces // 2 // TRACES_PER_SESSION}"
        middle_user = f"user-{traces // 2 // TRACES_PER_SESSION // SESSIONS_PER_USER}"
        costs.cost(costs.Usage("gpt-4o-mini", "openai", 1, 1))  # the price table, loaded once
        pages: dict[str, Callable[[Any], object]] = {
            "sessions list (50)": lambda c: views.sessions_page(c, Filters(), limit=50, offset=0),
            "sessions list, one user": lambda c: views.sessions_page(
                c, Filters(user=middle_user), limit=50, offset=0
            ),
            "sessions list, a tag": lambda c: views.sessions_page(
                c, Filters(tag="tier-1"), limit=50, offset=0
            ),
            "sessions list, text": lambda c: views.sessions_page(
                c, Filters(text="city 42?"), limit=50, offset=0
            ),
            "a session (5 turns)": lambda c: views.session_page(c, middle_session),
            "a trace (10 spans)": lambda c: views.trace_page(c, middle_trace),
            "users list (50)": lambda c: views.users_page(c, Filters(), limit=50, offset=0),
            "traces list (50)": lambda c: views.traces_page(c, Filters(), limit=50, offset=0),
            "poll": lambda c: queries.traces_written_since(c, queries.cursor(c)),
        }
        size = os.path.getsize(path) / 1e6
        print(
            f"store: {arguments.spans:,} spans, {traces:,} traces, "
            f"{traces // TRACES_PER_SESSION:,} sessions; {size:.0f} MB; filled in {filled:.1f} s; "
            f"prices {'on' if costs.available() else 'off (genai-prices not installed)'}"
        )
        print(f"{'page':<28} {'ms (median of ' + str(arguments.rounds) + ')':>20}")
        for name, page in pages.items():
            print(f"{name:<28} {timed(path, page, arguments.rounds):>20.1f}")


if __name__ == "__main__":
    main()
