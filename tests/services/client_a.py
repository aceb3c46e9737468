"""Service A: calls service B through urllib under OpenTelemetry's urllib instrumentation.

    python client_a.py URL flag|env|off

inside ``using_attributes(session_id="chat-43", user_id="ada", ...)``, with ``propagate=True``
for ``flag`` (``env``: the test sets ``TRACEROOT_PROPAGATE_SESSION``). Prints B's answer and the
trace id as JSON; its spans go where the environment says (the test's local store).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

from opentelemetry.instrumentation.urllib import URLLibInstrumentor

import traceroot

traceroot.instrument(integrations=[])
URLLibInstrumentor().instrument()


@traceroot.observe(name="ask B", type="agent")
def ask(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    answer["trace_id"] = traceroot.get_current_trace_id()
    return answer


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    with traceroot.using_attributes(
        session_id="chat-43",
        user_id="ada",
        tags=["from-a"],
        metadata={"plan": "pro"},
        propagate=mode == "flag",
    ):
        answer = ask(url)
    print(json.dumps(answer), flush=True)
    traceroot.shutdown()


if __name__ == "__main__":
    main()
