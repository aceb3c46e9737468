"""The Mistral integration: every chat completion, agent completion and embeddings call of the
official ``mistralai`` client is one ``llm`` span.

Where the spans come from, and why:

- The SDK's own telemetry (``mistralai.extra.observability``) is off since 3.0 unless the app
  opts in per client or with ``MISTRAL_SDK_TELEMETRY`` (before 3.0 it was on wherever a tracer
  provider was set, which is why the supported range starts at 3.0), and misses the bar where
  it counts: it records messages unconditionally; an API error is read from the response body
  (``error.type`` is the body's ``type``, not the exception the caller gets); and a stream's
  span ends only when its HTTP response is closed, never marked partial when broken off,
  without the error of a stream cut mid-way, without time to first chunk.
- OpenInference's instrumentor (``openinference-instrumentation-mistralai``) covers the same
  calls, but in OpenInference's flat attributes and without time to first chunk or a partial
  mark.

So traceroot wraps the SDK's model-call methods, one small table of targets (sync, async,
streamed and not, for ``chat`` and ``agents``; ``embeddings.create``), reading the call's
keyword arguments (the request body) and the parsed response, in the Chat Completions shape
Mistral answers in (:mod:`traceroot.integrations.chat_completions`). The span is current while
the HTTP request runs. If the app also switches the SDK's telemetry on, its span nests under
traceroot's and becomes the call's one ``llm`` span (:mod:`traceroot.integrations.mistral.readers`).
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.mistral.wrappers"


def _targets(module: str, attribute: str) -> tuple[PatchTarget, ...]:
    return (
        PatchTarget(module, f"{attribute}.complete", f"{_WRAPPERS}:complete"),
        PatchTarget(module, f"{attribute}.complete_async", f"{_WRAPPERS}:complete_async"),
        PatchTarget(module, f"{attribute}.stream", f"{_WRAPPERS}:stream"),
        PatchTarget(module, f"{attribute}.stream_async", f"{_WRAPPERS}:stream_async"),
    )


class MistralIntegration(BaseIntegration):
    name = "mistral"
    # The package itself: ``mistralai`` is a namespace package, whose import no hook can see.
    modules = ("mistralai.client",)
    distribution = "mistralai"
    supported = ">=3,<4"
    targets = (
        *_targets("mistralai.client.chat", "Chat"),
        *_targets("mistralai.client.agents", "Agents"),
        PatchTarget(
            "mistralai.client.embeddings", "Embeddings.create", f"{_WRAPPERS}:embeddings_create"
        ),
        PatchTarget(
            "mistralai.client.embeddings",
            "Embeddings.create_async",
            f"{_WRAPPERS}:embeddings_create_async",
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.mistral import readers

            foreign.read_scope(
                readers.SCOPE, at_start=readers.at_start, at_export=readers.at_export
            )

    def uninstrument(self) -> None:
        with self._lock:
            if self._instrumented:
                from traceroot.integrations.mistral import readers

                foreign.unread_scope(readers.SCOPE)
            super().uninstrument()
