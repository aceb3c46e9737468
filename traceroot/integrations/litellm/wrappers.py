"""Wrappers for LiteLLM's public entry points: ``completion``, ``acompletion``, ``embedding``
and ``aembedding``.

Pre-call work (reading the arguments) and post-call work (reading the response) are guarded on
their own; the user's call itself is never inside a guard, so its result, exception and traceback
reach the caller untouched. The span is current while LiteLLM runs, so a provider SDK that is
instrumented itself (LiteLLM calls OpenAI-compatible APIs through the ``openai`` client) nests its
span under this one, and the model-call protocol makes that one the call's ``llm`` span.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.litellm import messages
from traceroot.integrations.litellm.streams import AsyncStream, ChatStream
from traceroot.integrations.streaming import StreamRecorder, SyncStream

_starting = contained("litellm.start")
_reading_request = contained("litellm.request")
_reading_response = contained("litellm.response")

# LiteLLM's provider names where the GenAI conventions spell them otherwise.
PROVIDERS: Final = {
    "azure": semconv.PROVIDER_AZURE_OPENAI,
    "azure_ai": semconv.PROVIDER_AZURE_INFERENCE,
    "azure_text": semconv.PROVIDER_AZURE_OPENAI,
    "text-completion-openai": "openai",
    "bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "sagemaker": semconv.PROVIDER_AWS_SAGEMAKER,
    "vertex_ai": semconv.PROVIDER_GCP_VERTEX_AI,
    "vertex_ai_beta": semconv.PROVIDER_GCP_VERTEX_AI,
    "gemini": semconv.PROVIDER_GCP_GEMINI,
    "mistral": "mistral_ai",
    "codestral": "mistral_ai",
    "xai": "x_ai",
    "watsonx": semconv.PROVIDER_IBM_WATSONX,
}


class _Call:
    __slots__ = ("context", "span", "started")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def _argument(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _target(model: object, kwargs: Mapping[str, Any]) -> tuple[str | None, str]:
    """The model as the provider knows it, and the provider (GenAI name where there is one)."""
    if not isinstance(model, str):
        return None, "litellm"
    given = kwargs.get("custom_llm_provider")
    try:
        from litellm import get_llm_provider

        found = get_llm_provider(
            model=model,
            custom_llm_provider=given if isinstance(given, str) else None,
            api_base=kwargs.get("api_base") or kwargs.get("base_url"),
        )
        resolved, provider = found[0], found[1]
    except Exception:  # noqa: BLE001 - a model LiteLLM cannot place: it will say so itself
        prefix, slash, rest = model.partition("/")
        resolved, provider = (rest, prefix) if slash else (model, given or "litellm")
    return resolved, PROVIDERS.get(provider, provider)


def _server(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    base = kwargs.get("api_base") or kwargs.get("base_url")
    if not isinstance(base, str) or not base:
        return {}
    parts = urlsplit(base)
    server: dict[str, Any] = {}
    if parts.hostname:
        server[semconv.SERVER_ADDRESS] = parts.hostname
    if parts.port is not None:
        server[semconv.SERVER_PORT] = parts.port
    return server


def _begin(
    operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], stream: bool
) -> _Call | None:
    attributes: dict[str, Any] = {}
    model = _argument(args, kwargs, 0, "model")
    with _reading_request:
        if operation == semconv.OPERATION_CHAT:
            attributes[semconv.GEN_AI_REQUEST_STREAM] = stream
            messages.record_request(attributes, kwargs, _argument(args, kwargs, 1, "messages"))
        else:
            inputs = _argument(args, kwargs, 1, "input")
            messages.record_embeddings_request(attributes, kwargs, inputs)
        attributes.update(_server(kwargs))
    with _starting:
        resolved, provider = _target(model, kwargs)
        span = genai.start_llm_span(operation, resolved, provider=provider, attributes=attributes)
        return _Call(span)
    return None


def _fail(call: _Call, error: BaseException) -> None:
    genai.set_final(call.span, {})
    with _reading_response:
        genai.record_error(call.span, error)
    call.span.end()


def _succeed(call: _Call, operation: str, result: Any, *, is_async: bool) -> Any:
    """Record the response and end the span, or hand back a stream proxy that will."""
    attributes: dict[str, Any] = {}
    with _reading_response:
        if is_async and hasattr(result, "__anext__"):
            return AsyncStream(result, _recorder(call, result))
        if not is_async and hasattr(result, "__next__"):
            return SyncStream(result, _recorder(call, result))
        if operation == semconv.OPERATION_CHAT:
            messages.record_response(attributes, result)
        else:
            messages.record_embeddings_response(attributes, result)
    genai.set_final(call.span, attributes)
    call.span.end()
    return result


def _recorder(call: _Call, stream: Any) -> StreamRecorder:
    return StreamRecorder(call.span, ChatStream(stream), call.started)


def _sync(operation: str) -> Callable[[BaseIntegration], Wrapper]:
    def factory(integration: BaseIntegration) -> Wrapper:
        def wrapper(
            wrapped: Callable[..., Any],
            instance: Any,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
        ) -> Any:
            # ``completion(..., acompletion=True)`` hands back ``acompletion``'s coroutine.
            if kwargs.get("acompletion") or kwargs.get("aembedding"):
                return wrapped(*args, **kwargs)
            call = _begin(operation, args, kwargs, bool(kwargs.get("stream")))
            if call is None:
                return wrapped(*args, **kwargs)
            token = otel_context.attach(call.context)
            try:
                result = wrapped(*args, **kwargs)
            except BaseException as error:
                otel_context.detach(token)
                _fail(call, error)
                raise
            otel_context.detach(token)
            return _succeed(call, operation, result, is_async=False)

        return wrapper

    return factory


def _async(operation: str) -> Callable[[BaseIntegration], Wrapper]:
    def factory(integration: BaseIntegration) -> Wrapper:
        async def wrapper(
            wrapped: Callable[..., Any],
            instance: Any,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
        ) -> Any:
            call = _begin(operation, args, kwargs, bool(kwargs.get("stream")))
            if call is None:
                return await wrapped(*args, **kwargs)
            token = otel_context.attach(call.context)
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as error:
                otel_context.detach(token)
                _fail(call, error)
                raise
            otel_context.detach(token)
            return _succeed(call, operation, result, is_async=True)

        return wrapper

    return factory


completion = _sync(semconv.OPERATION_CHAT)
acompletion = _async(semconv.OPERATION_CHAT)
embedding = _sync(semconv.OPERATION_EMBEDDINGS)
aembedding = _async(semconv.OPERATION_EMBEDDINGS)
