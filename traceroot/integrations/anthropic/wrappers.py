"""What the Anthropic client supplies to the shared ``request`` wrappers
(:mod:`traceroot.integrations.client_requests`): its model endpoints (by path, without the query),
the placeholders it leaves in the request body, its provider name and how a raw response is read;
and the hook that leaves out the SDK's own span of a call traceroot's span covers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from anthropic import _types
from opentelemetry.trace import Span

from traceroot import semconv
from traceroot.genai import Attributes
from traceroot.integrations import client_requests
from traceroot.integrations.anthropic.messages import CountTokensEndpoint, MessagesEndpoint
from traceroot.integrations.base import BaseIntegration, Replacer, Wrapper
from traceroot.integrations.streaming import StreamAccumulator


class Endpoint(Protocol):
    def start(self, model: str | None, provider: str, attributes: Attributes) -> Span: ...

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None: ...

    def record_response(self, attributes: Attributes, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...


# By path, without the query (the beta endpoints add ``?beta=true``): as the client asks for it,
# before a Bedrock or Vertex client rewrites it for its platform.
ENDPOINTS: Final[dict[str, Endpoint]] = {
    "/v1/messages": MessagesEndpoint(),
    "/v1/messages/count_tokens": CountTokensEndpoint(),
}

# The SDK's placeholders for an argument not given (2.x leaves them in the request body).
_OMITTED: Final = tuple(
    kind for kind in (getattr(_types, "Omit", None), getattr(_types, "NotGiven", None)) if kind
)


def _by_path(url: Any) -> Endpoint | None:
    if not isinstance(url, str):
        return None
    return ENDPOINTS.get(url.partition("?")[0])


class _Anthropic(client_requests.StainlessClient):
    omitted = _OMITTED

    endpoint = staticmethod(_by_path)

    def start(self, endpoint: Any, model: str | None, client: Any, attributes: Attributes) -> Span:
        span: Span = endpoint.start(model, provider(client), attributes)
        return span

    def parsed(self, result: Any) -> Any:
        """The response model, also for ``with_raw_response`` (whose ``parse()`` is cached, so
        the caller's own ``parse()`` gets the same object; an async one's decoded body instead).
        The unread body of ``with_streaming_response`` is left to the caller."""
        if not hasattr(result, "http_response") or not hasattr(result, "parse"):
            return result
        http_response = result.http_response
        if not getattr(http_response, "is_closed", False):
            return None  # reading it here would consume the caller's body
        if inspect.iscoroutinefunction(result.parse):
            return http_response.json()
        return result.parse()


_CLIENT: Final = _Anthropic("anthropic")


def endpoint_of(options: Any) -> Endpoint | None:
    return _by_path(getattr(options, "url", None))


def provider(client: Any) -> str:
    """``gen_ai.provider.name``: the platform for the Bedrock and Vertex clients, as Anthropic's
    own telemetry names it (which 2.x clients carry), else ``anthropic``."""
    named = getattr(client, "_gen_ai_provider_name", None)
    if isinstance(named, str) and named != "anthropic":
        return named
    kind = type(client).__name__
    if "Bedrock" in kind:
        return semconv.PROVIDER_AWS_BEDROCK
    if "Vertex" in kind:
        return semconv.PROVIDER_GCP_VERTEX_AI
    return "anthropic"


def sync_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.sync_request(_CLIENT)


def async_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.async_request(_CLIENT)


def sdk_call_span(integration: BaseIntegration) -> Replacer:
    """Anthropic 2.x's own span of an API call, left out for the calls traceroot's span covers:
    one span per model call. Its other spans (other endpoints, the tool runner and its tool
    calls) stay."""

    def replace(original: Callable[..., Any]) -> Callable[..., Any]:
        def start_api_call_span(
            tracer: Any, base_url: Any, options: Any, *args: Any, **kwargs: Any
        ) -> Any:
            if endpoint_of(options) is not None:
                return None  # the SDK then makes the call without a span of its own
            return original(tracer, base_url, options, *args, **kwargs)

        start_api_call_span.__wrapped__ = original  # type: ignore[attr-defined]
        return start_api_call_span

    return replace
