"""The Google ADK integration: ADK's own OpenTelemetry spans, read like traceroot's.

Where the telemetry comes from, and why: ADK (2.x) writes spans in the OpenTelemetry GenAI
conventions itself (tracer ``gcp.vertex.agent``) through the global tracer provider, the one
traceroot owns or joined, with nothing to switch on: ``invoke_workflow <root agent>`` for a
runner's invocation, ``invoke_agent <agent>`` for each agent run, ``generate_content <model>``
for each model call and ``execute_tool <tool>`` for each tool call, with the session as
``gen_ai.conversation.id`` and, when content capture is on, the messages and the tools'
arguments and results. That is the best-kept source (order (1) of the integration contract).
ADK sets no tracer provider and no exporter of its own when used as a library (only its CLI
servers do, when told to): nothing leaves for Google Cloud unless the app set that up.

A model reached through ``LiteLlm`` is called with the ``openai`` SDK: traceroot's OpenAI
integration makes the call's one ``llm`` span, nested under ADK's ``generate_content`` span,
which the model-call protocol then makes a plain span without usage (it keeps its messages).

What this integration adds, at one choke point (``Runner.run_async``, which ``Runner.run``
drives too), and through a reader of ADK's spans:

- the session and user: a run's ``session_id`` and ``user_id`` are in force (as if in a
  ``using_attributes`` block, which wins when one is active) while each step of the run runs,
  so every span of the run carries them, the OpenAI spans included (the run's events are still
  an async generator, as ADK returns them); a run not started by a ``Runner`` has ADK's session
  id (``gen_ai.conversation.id``) as the session, on ADK's spans that carry it;
- content follows ``TRACEROOT_CAPTURE_CONTENT``: the run's ``RunConfig.telemetry`` gets the
  content mode (on the spans, or none) unless the app chose one itself, in the run's config or
  with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (which traceroot's off still
  overrides);
- agent spans are exported named after the agent, tool spans after the tool, and a tool's
  exception once (ADK records it, then lets it out of a span that records it again: the reader
  of foreign spans drops the repeat, :mod:`traceroot.reading`).

ADK keeps writing its spans after ``uninstrument()`` (it always does, to whatever global provider
there is); they are then read as any other tracer's GenAI spans.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget

_HOOKS = "traceroot.integrations.google_adk.hooks"
SCOPE = "gcp.vertex.agent"  # the tracer ADK's spans come from


class GoogleADKIntegration(BaseIntegration):
    name = "google_adk"
    modules = ("google.adk",)
    distribution = "google-adk"
    supported = ">=2.13,<3"
    targets = (PatchTarget("google.adk.runners", "Runner.run_async", f"{_HOOKS}:run_async"),)

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.google_adk import hooks

            foreign.read_scope(SCOPE, at_start=hooks.at_start, at_export=hooks.at_export)

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            foreign.unread_scope(SCOPE)
