"""The ``traceroot ui`` web server: the page's files and its JSON API, from the standard library.

Safe by default, because what it shows was written by apps, users and models:
- bound to 127.0.0.1; another address only when asked for explicitly, with a warning;
- a request whose ``Host`` is not the address it was reached on is refused, so a web page whose
  name was rebound to 127.0.0.1 (DNS rebinding) cannot read the store; a cross-site request too;
- GET only; the files served are a fixed list, never a path taken from the request;
- every response carries a strict Content-Security-Policy (scripts and styles from this server
  only, no frames, no forms), ``nosniff`` and ``no-referrer``; the page fetches nothing elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sqlite3
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from traceroot.ui import queries, views
from traceroot.ui.queries import Filters

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_STATIC: Final = Path(__file__).resolve().parent / "static"
_FILES: Final = {  # what the server hands out: this list, nothing else
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
_LOOPBACK_NAMES: Final = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_LIMIT: Final = 50


class Viewer(ThreadingHTTPServer):
    """The server, with what its handlers read: the store path and the accepted Host values."""

    daemon_threads = True

    def __init__(self, store_path: str, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)
        self.store_path = store_path
        self.bound_host = host
        self.files = {route: (_STATIC / name).read_bytes() for route, (name, _) in _FILES.items()}

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.bound_host
        if is_wildcard(host):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def accepts_host(self, header: str | None) -> bool:
        """Whether a request's Host names this server as it was reached: its bound address (a
        loopback name when bound to loopback); bound to every address, an IP literal or this
        machine's own name. Never a name a third party controls."""
        if not header:
            return False
        name, _, port = header.strip().lower().rpartition(":")
        if not name or (":" in name and not name.startswith("[")):
            return False  # no port, or an IPv6 literal without its brackets
        if port != str(self.port):
            return False
        bound = self.bound_host.lower()
        if is_loopback(bound):
            return name in _LOOPBACK_NAMES
        if not is_wildcard(bound):
            return name in (bound, f"[{bound}]")
        return name in _LOOPBACK_NAMES or _is_ip(name) or name in _machine_names()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _machine_names() -> set[str]:
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return names


class _Handler(BaseHTTPRequestHandler):
    server: Viewer
    server_version = "traceroot-ui"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if not self.server.accepts_host(self.headers.get("Host")):
            self._reply(HTTPStatus.FORBIDDEN, b"forbidden: unexpected Host\n", "text/plain")
            return
        if self.headers.get("Sec-Fetch-Site") == "cross-site":
            self._reply(HTTPStatus.FORBIDDEN, b"forbidden: cross-site request\n", "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path in _FILES:
            self._reply(HTTPStatus.OK, self.server.files[url.path], _FILES[url.path][1])
            return
        route = _ROUTES.get(url.path)
        if route is None:
            self._reply(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        query = {
            key: values[-1]
            for key, values in urllib.parse.parse_qs(url.query, keep_blank_values=False).items()
        }
        status, body = _answer(self.server.store_path, route, query)
        self._reply(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")

    def _refuse_method(self) -> None:
        self._reply(HTTPStatus.METHOD_NOT_ALLOWED, b"GET only\n", "text/plain", allow=True)

    # The names http.server dispatches on; any other method gets its 501.
    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _refuse_method  # noqa: N815

    def _reply(
        self, status: HTTPStatus, body: bytes, content_type: str, *, allow: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if allow:
            self.send_header("Allow", "GET")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():  # on every response, errors included
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # no access log: the terminal stays for the URL and for problems


def _answer(path: str, route: Callable[..., Any], query: dict[str, str]) -> tuple[HTTPStatus, Any]:
    try:
        with queries.connect(path) as connection:
            found = route(connection, query)
    except queries.StoreMissingError:
        return HTTPStatus.NOT_FOUND, {"error": "no traces yet: run an instrumented program"}
    except _BadRequestError as problem:
        return HTTPStatus.BAD_REQUEST, {"error": str(problem)}
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the store is busy; retrying"}
        if "no such table" in str(error):
            return HTTPStatus.NOT_FOUND, {"error": "no traces yet: run an instrumented program"}
        return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"cannot read the store: {error}"}
    except sqlite3.DatabaseError as error:
        return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"cannot read the store: {error}"}
    if found is None:
        return HTTPStatus.NOT_FOUND, {"error": "not found"}
    return HTTPStatus.OK, found


class _BadRequestError(Exception):
    pass


def _filters(query: dict[str, str]) -> Filters:
    return Filters(
        user=query.get("user") or None,
        session=query.get("session") or None,
        tag=query.get("tag") or None,
        text=query.get("text") or None,
        since_ns=_ns(query.get("from")),
        until_ns=_ns(query.get("to")),
    )


def _ns(milliseconds: str | None) -> int | None:
    """A time from the page (epoch milliseconds) in the store's nanoseconds."""
    if not milliseconds:
        return None
    try:
        return int(float(milliseconds) * 1_000_000)
    except (ValueError, OverflowError) as error:
        raise _BadRequestError("from and to are epoch milliseconds") from error


def _page(query: dict[str, str]) -> dict[str, int]:
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError as error:
        raise _BadRequestError("limit and offset are numbers") from error
    return {"limit": max(1, min(limit, queries.MAX_LIMIT)), "offset": max(0, offset)}


def _required(query: dict[str, str], key: str) -> str:
    value = query.get(key)
    if not value:
        raise _BadRequestError(f"{key} is required")
    return value


def _poll(connection: sqlite3.Connection, query: dict[str, str]) -> dict[str, Any]:
    try:
        since = int(query.get("since", 0))
    except ValueError as error:
        raise _BadRequestError("since is the cursor the last poll returned") from error
    mark = queries.cursor(connection)
    new = queries.traces_written_since(connection, since) if since and mark > since else []
    return {"cursor": mark, "new_traces": new}


_ROUTES: Final[dict[str, Callable[[sqlite3.Connection, dict[str, str]], Any]]] = {
    "/api/sessions": lambda c, q: views.sessions_page(c, _filters(q), **_page(q)),
    "/api/users": lambda c, q: views.users_page(c, _filters(q), **_page(q)),
    "/api/traces": lambda c, q: views.traces_page(c, _filters(q), **_page(q)),
    "/api/session": lambda c, q: views.session_page(c, _required(q, "id")),
    "/api/trace": lambda c, q: views.trace_page(c, _required(q, "id")),
    "/api/poll": _poll,
}


def start(store_path: str, *, host: str = "127.0.0.1", port: int = 0) -> Viewer:
    """A server bound and serving in a daemon thread (for tests and embedding); ``port=0`` picks
    a free port, read back from ``.port``."""
    viewer = Viewer(store_path, host, port)
    threading.Thread(
        target=viewer.serve_forever, args=(0.05,), name="traceroot-ui", daemon=True
    ).start()  # polled often, so shutdown() returns at once
    return viewer


class RemoteRefusedError(Exception):
    """An address other machines reach, asked for without ``allow_remote``."""


def open_viewer(store_path: str, *, host: str, port: int, allow_remote: bool) -> Viewer:
    """The server for ``traceroot ui``, bound; another address than loopback only with
    ``allow_remote``, and then with a warning on stderr."""
    if not is_loopback(host) and not allow_remote:
        raise RemoteRefusedError(
            f"refusing to serve on {host}: the store holds prompts and outputs; add "
            "--allow-remote to let other machines read it"
        )
    viewer = Viewer(store_path, host, port)
    if not is_loopback(host):
        print(
            f"traceroot: warning: serving {host}:{viewer.port} to other machines: anyone who "
            "can reach it reads every prompt and output in the store, over plain http",
            file=sys.stderr,
        )
    return viewer


def run(store_path: str, *, host: str, port: int, allow_remote: bool, open_browser: bool) -> int:
    """``traceroot ui``: serve until interrupted."""
    viewer = open_viewer(store_path, host=host, port=port, allow_remote=allow_remote)
    from traceroot import costs

    costs.warm_up()
    print(f"traceroot ui: {viewer.url}  (store {store_path}; Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(viewer.url,), daemon=True).start()
    try:
        viewer.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        viewer.server_close()
    return 0
