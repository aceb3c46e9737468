"""What the secret scan costs per recorded value: typical LLM text with and without a credential.

Every value traceroot records becomes JSON text and passes :func:`traceroot.secrets.scrub` (keys,
then credential shapes) before it is measured against the size budget. This times
:func:`traceroot.serialize.to_json_checked` on the same values with the scan on and off, in
alternating rounds in one process (CPU time per value, median of the rounds); the difference is
the scan's cost. Figures only, no pass/fail.

    python benchmarks/secret_scan.py [--calls 5000 --rounds 9]
"""

from __future__ import annotations

import argparse
import functools
import statistics
from typing import Any

from _common import timed

from traceroot import secrets, serialize

_ANSWER = """Here is how to paginate the results. The API returns a `next` cursor with each page;
pass it back until it is empty. In Python:

```python
def fetch_all(client, query, *, page_size=100):
    cursor = None
    while True:
        page = client.search(query=query, cursor=cursor, limit=page_size)
        yield from page.items
        cursor = page.next
        if not cursor:
            break
```

A few things to keep in mind:

1. **Rate limits.** The service allows about 50 requests per second per project; beyond that it
   answers 429 with a `Retry-After` header. Back off for that many seconds and retry.
2. **Consistency.** Items created while you paginate may or may not appear; sort by `created_at`
   if you need a stable order, and de-duplicate by id (see https://docs.example.com/pagination).
3. **Filters.** `status=open` and `owner=me` can be combined; the key of each filter is the
   field name, and values are matched exactly (use `q=` for full-text search instead).

The total count is in `page.total`, so you can show progress as items arrive. If a page takes
longer than the timeout (30 s by default), lower `page_size` rather than raising the timeout:
smaller pages fail less often and resume from the last cursor. For an export of everything, the
bulk endpoint is faster: it writes one JSON line per item to a file you download when it is
ready, and it does not count against the per-second limit.
"""

_QUESTION = "How do I fetch every page of search results with the client, and what are the limits?"


def _conversation(answer: str) -> list[dict[str, Any]]:
    """A chat exchange as the integrations record it (about 4 KB of JSON)."""
    return [
        {"role": "system", "content": "You are a precise assistant for the Example API."},
        {"role": "user", "content": _QUESTION},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Thanks. And with async code? " + _QUESTION},
        {"role": "assistant", "content": answer.replace("def ", "async def ")},
    ]


_CASES: dict[str, Any] = {
    "small input (a few fields)": {"query": "weather in SF", "limit": 5, "session_id": "s-1"},
    "LLM conversation, no secret (~4 KB)": _conversation(_ANSWER),
    "same, one Bearer token in the text": _conversation(
        _ANSWER.replace("header.", "header. Use `Authorization: Bearer eyJ0eXAi.abc123.XYZ789`.")
    ),
    "same, one secret-named key": [
        *_conversation(_ANSWER),
        {"role": "tool", "content": {"api_key": "k-123", "status": "ok"}},
    ],
}


def _scan_off(text: str) -> str:
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    scan_on = secrets.scrub
    print(f"to_json_checked per value, CPU, median of {args.rounds} alternating rounds")
    print(f"{'value':40} {'size':>8} {'scan off':>10} {'scan on':>10} {'scan cost':>10}")
    for label, value in _CASES.items():
        size = len(serialize.to_json(value))
        encode = functools.partial(serialize.to_json_checked, value)
        off: list[float] = []
        on: list[float] = []
        timed(encode, args.calls // 10)  # warm
        for _ in range(args.rounds):
            secrets.scrub = _scan_off  # type: ignore[assignment]
            off.append(timed(encode, args.calls))
            secrets.scrub = scan_on  # type: ignore[assignment]
            on.append(timed(encode, args.calls))
        off_us, on_us = statistics.median(off), statistics.median(on)
        print(f"{label:40} {size:>7}B {off_us:>8.2f}us {on_us:>8.2f}us {on_us - off_us:>+8.2f}us")


if __name__ == "__main__":
    main()
