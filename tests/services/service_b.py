"""Service B: a WSGI app on 127.0.0.1 under OpenTelemetry's WSGI middleware, with traceroot.

Prints its port, serves until ``/quit``, then shuts traceroot down (its spans go where the
environment says: the test's local store). ``/tool`` runs an observed tool; ``/tool-local`` runs
it inside a local ``using_attributes`` block. Each answer tells what arrived: the ``baggage``
header, if any.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

import traceroot

traceroot.instrument(integrations=[])
stopping = False


@traceroot.observe(name="lookup", type="tool")
def lookup(city: str) -> str:
    return f"sunny in {city}"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    global stopping
    path = environ.get("PATH_INFO", "")
    if path == "/quit":
        stopping = True
    elif path == "/tool-local":
        with traceroot.using_attributes(session_id="b-session"):
            lookup("SF")
    else:
        lookup("SF")
    body = json.dumps({"baggage": environ.get("HTTP_BAGGAGE")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def main() -> None:
    server = make_server("127.0.0.1", 0, OpenTelemetryMiddleware(app), handler_class=QuietHandler)
    print(server.server_port, flush=True)
    while not stopping:
        server.handle_request()
    server.server_close()
    traceroot.shutdown()


if __name__ == "__main__":
    main()
