from __future__ import annotations

from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from .openai_server import OpenAIServer, start_openai_server

API_KEY = "sk-test-SECRET-key-0123456789"


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[tuple[OpenAIServer, ThreadingHTTPServer]]:
    found, server = start_openai_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def openai_server(_openai_server: tuple[OpenAIServer, ThreadingHTTPServer]) -> OpenAIServer:
    found, _ = _openai_server
    found.requests.clear()
    return found
