"""What the OpenAI client supplies to the shared ``request`` wrappers
(:mod:`traceroot.integrations.client_requests`): its model endpoints, its provider name (Azure or
OpenAI) and how a ``with_raw_response`` result is read.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.integrations import client_requests
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.openai.chat import ChatEndpoint
from traceroot.integrations.openai.embeddings import CompletionsEndpoint, EmbeddingsEndpoint
from traceroot.integrations.openai.endpoint import Endpoint
from traceroot.integrations.openai.responses import ResponsesEndpoint

ENDPOINTS: Final[dict[str, Endpoint]] = {
    "/chat/completions": ChatEndpoint(),
    "/responses": ResponsesEndpoint(),
    "/embeddings": EmbeddingsEndpoint(),
    "/completions": CompletionsEndpoint(),
}


class _OpenAI(client_requests.StainlessClient):
    def endpoint(self, url: Any) -> Endpoint | None:
        return ENDPOINTS.get(url)

    def start(self, endpoint: Any, model: str | None, client: Any, attributes: Attributes) -> Span:
        return genai.start_llm_span(
            endpoint.operation, model, provider=_provider(client), attributes=attributes
        )

    def parsed(self, result: Any) -> Any:
        """The response model, also for ``with_raw_response`` (whose ``parse()`` is cached, so
        the caller's own ``parse()`` gets the same object). Streaming raw responses are left
        unread."""
        if isinstance(result, _response_model()):
            return result  # nearly every call: no probing for what it is not
        from openai._legacy_response import LegacyAPIResponse

        if isinstance(result, LegacyAPIResponse):
            return None if getattr(result, "_stream", False) else result.parse()
        if hasattr(result, "http_response") and hasattr(result, "parse"):
            return None  # with_streaming_response: reading it here would consume the caller's body
        return result


_CLIENT: Final = _OpenAI("openai")


@functools.cache
def _response_model() -> type:
    # On first use: loading the wrappers never imports anything of the client itself.
    from openai import BaseModel

    return BaseModel


def _provider(client: Any) -> str:
    return semconv.PROVIDER_AZURE_OPENAI if "Azure" in type(client).__name__ else "openai"


def sync_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.sync_request(_CLIENT)


def async_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.async_request(_CLIENT)
