"""The LiteLLM integration: every ``litellm.completion`` / ``acompletion`` / ``embedding`` /
``aembedding`` call becomes one model span, streams included.

Where the telemetry comes from, and why our own patching:

- LiteLLM's own OpenTelemetry callback (``litellm.callbacks = ["otel"]``) is a logging callback:
  it writes the call's span after the call, from LiteLLM's logging workers, back-dated. The span
  is never current while the provider is called, so the span of an instrumented provider SDK
  (LiteLLM calls OpenAI and OpenAI-compatible APIs through the ``openai`` client) cannot nest
  under it and the call's usage is counted twice; without a provider given it also sets up a
  tracer provider and an exporter of its own.
- OpenInference's ``openinference-instrumentation-litellm`` makes its span current during the
  call, but a stream broken off early is not marked partial, has no time to first chunk, and an
  async one ends only when the garbage collector finalizes its generator; it would also be one
  more package to install.
- So traceroot wraps LiteLLM's public entry points (one function each, the ones the Router, DSPy
  and Google ADK call too) with the shared model-call engine: ``chat {model}`` or
  ``embeddings {model}``, ``gen_ai.provider.name`` from LiteLLM's own provider resolution,
  parameters, messages in the GenAI shape, tool definitions and calls, finish reasons, usage with
  cache and reasoning tokens, and a stream proxy that ends the span once on every path.

Usage is counted once: the span is current while LiteLLM runs, so when LiteLLM goes through an
instrumented SDK (``openai/...`` models with traceroot's OpenAI integration on), that SDK's span
nests under this one and is the call's ``llm`` span; this one becomes a plain ``span`` without
usage that keeps its messages. Providers LiteLLM reaches over its own HTTP code (Anthropic,
Bedrock, Vertex, ...) leave this span as the ``llm`` span.

A name bound before the integration was on (``from litellm import completion`` before
``traceroot.instrument()`` with LiteLLM already imported) keeps calling the original.
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.litellm.wrappers"


class LiteLLMIntegration(BaseIntegration):
    name = "litellm"
    modules = ("litellm",)
    distribution = "litellm"
    supported = ">=1.60,<2"
    targets = (
        PatchTarget("litellm", "completion", f"{_WRAPPERS}:completion"),
        PatchTarget("litellm", "acompletion", f"{_WRAPPERS}:acompletion"),
        PatchTarget("litellm", "embedding", f"{_WRAPPERS}:embedding"),
        PatchTarget("litellm", "aembedding", f"{_WRAPPERS}:aembedding"),
    )
