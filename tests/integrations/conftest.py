from __future__ import annotations

from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from ..conftest import Spans
from .anthropic_server import AnthropicServer, start_anthropic_server
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


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[tuple[AnthropicServer, ThreadingHTTPServer]]:
    found, server = start_anthropic_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def anthropic_server(
    _anthropic_server: tuple[AnthropicServer, ThreadingHTTPServer],
) -> AnthropicServer:
    found, _ = _anthropic_server
    found.requests.clear()
    return found


@pytest.fixture(autouse=True)
def _no_api_key_in_any_span(spans: Spans) -> Iterator[None]:
    """Every integration test, whatever it checks, also proves the API key reached no span."""
    yield
    for span in spans.all():
        recorded = [*dict(span.attributes or {}).values()]
        recorded += [
            value for event in span.events for value in dict(event.attributes or {}).values()
        ]
        assert not any(API_KEY in str(value) for value in recorded), span.name
