"""A tiny OTLP/HTTP receiver on 127.0.0.1 that records what exporters send it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def spans(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(name, attributes) of every span in the protobuf body."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(self.body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    yield span.name, attributes


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)

    def spans(self) -> dict[str, dict[str, Any]]:
        return {name: attrs for request in self.requests for name, attrs in request.spans()}


def start_receiver(status: int = 200) -> tuple[Receiver, ThreadingHTTPServer]:
    """A receiver answering every request with ``status`` (an error status plays a failing
    backend)."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    return receiver, server
