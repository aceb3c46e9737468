"""The Anthropic integration: every model call of the official ``anthropic`` client becomes one
``llm`` span.

It patches the one choke point every endpoint goes through, the client's ``request`` method (sync
and async), as the OpenAI integration does, so ``Anthropic``, ``AsyncAnthropic``, the Bedrock and
Vertex clients, ``with_raw_response``, ``with_streaming_response``, ``parse``, the ``stream()``
helpers, the beta endpoints and the beta tool runner's calls are all covered, and the span is
current while the HTTP request runs. Messages calls make ``llm`` spans; ``count_tokens`` a plain
span (no model call); other requests pass straight through.

Where the spans come from, and why not from the SDK's own telemetry: the 2.x line of ``anthropic``
traces its API calls itself (scope ``com.anthropic.sdk.python``). Its span per call is good on
streams and usage, but it costs about 2x a hand-written span with the same attributes on a call
and 3.5x on a stream (``benchmarks/anthropic_overhead.py``; this integration's budget is 1.5x),
leaves out the sampling parameters, tool definitions, finish reasons under the GenAI name and the
partial mark of a stream broken off, and takes its content mode from each client's construction.
The 0.x line has no telemetry, and OpenInference's Anthropic instrumentor patches each resource
method instead of one choke point. So traceroot makes the span itself on both lines, and while it
does, the SDK's own span is left out for the calls traceroot covers (one span per call); the SDK's
other spans (the tool runner's agent and tool spans, other endpoints) stay and nest as usual,
their content following ``TRACEROOT_CAPTURE_CONTENT`` (:mod:`.telemetry`).

Supported from 0.43: before it, the ``stream()`` helpers read the HTTP response of the stream the
client returned through a stream of their own, so no stream proxy could see their events.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.anthropic.wrappers"
_TELEMETRY = "traceroot.integrations.anthropic.telemetry"


class AnthropicIntegration(BaseIntegration):
    name = "anthropic"
    modules = ("anthropic",)
    distribution = "anthropic"
    supported = ">=0.43,<3"
    targets = (
        PatchTarget(
            "anthropic._base_client",
            "SyncAPIClient.request",
            f"{_WRAPPERS}:sync_request",
            overrides=True,
        ),
        PatchTarget(
            "anthropic._base_client",
            "AsyncAPIClient.request",
            f"{_WRAPPERS}:async_request",
            overrides=True,
        ),
        # 2.x only: its own span of a call that traceroot's span covers is left out.
        PatchTarget(
            "anthropic._base_client",
            "start_api_call_span",
            f"{_WRAPPERS}:sdk_call_span",
            optional=True,
            replaces=True,
        ),
        # 2.x only: the content of its remaining spans follows traceroot's content switch.
        PatchTarget(
            "anthropic.lib._tracing._config",
            "OpenTelemetryConfig.records_content",
            f"{_TELEMETRY}:records_content",
            optional=True,
            replaces=True,
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.anthropic import telemetry

            foreign.read_scope(telemetry.SCOPE, at_export=telemetry.read)

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            from traceroot.integrations.anthropic import telemetry

            foreign.unread_scope(telemetry.SCOPE)
