"""What the local fake providers share: a threaded HTTP server on 127.0.0.1 and chunked writes."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO


@dataclass
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class RecordingHandler(BaseHTTPRequestHandler):
    """A quiet keep-alive handler that records every request before answering it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed-ACK stall
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def record(self) -> tuple[str, dict[str, Any]]:
        """Read and record this request; returns its path (no query) and its JSON body."""
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}") if self.command == "POST" else {}
        path = self.path.split("?")[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.recorded.append(Recorded(path, headers, body))
        return path, body


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many concurrent test clients connect at once
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-stream (on purpose, in these tests) are not errors."""


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, list[Any], int]:
    """Start `handler` on a free port; returns the server, its request record and the port."""
    server = _Server(("127.0.0.1", 0), handler)
    recorded: list[Any] = []
    server.recorded = recorded  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, recorded, server.server_address[1]


def write_chunk(wfile: BinaryIO, data: bytes) -> None:
    """One chunk of a chunked response, flushed so the client sees it now."""
    wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    wfile.flush()
