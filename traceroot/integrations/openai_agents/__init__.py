"""The OpenAI Agents SDK integration: agents, tools, handoffs, guardrails and model calls.

Telemetry source: the SDK's own tracing. Every run already announces its trace and spans (agent,
function, generation, response, handoff, guardrail, custom, MCP) to the processors of its trace
provider, with the data traceroot needs: the agent's name, a tool's arguments and result, the
model's input, output and usage. A processor of traceroot's turns them into OpenTelemetry spans
on the process's provider, current while they run, so OpenAI calls and ``@observe`` functions
nest under them. No patching of the run loop, and no OpenInference instrumentor: that one is the
same kind of processor with its own span shapes and none of traceroot's context handling.

What the spans look like:

- one trace per SDK trace (a ``Runner.run*`` call, or the user's ``with trace(...)``), its root
  named after the workflow; the SDK's task and turn spans are folded away (the root and the agent
  spans stand for them, and their usage totals would count calls again);
- agent spans are ``agent`` spans named after the agent (``gen_ai.operation.name``
  ``invoke_agent``, ``gen_ai.agent.name``); tools are ``tool`` spans with name, arguments and
  result; handoffs (``handoff A -> B``) and guardrails (``traceroot.guardrail.triggered``) are
  plain spans; errors the SDK records (a tool that raised) are one exception event on their span;
- ``response`` and ``generation`` spans are model calls: with traceroot's OpenAI integration on,
  its span of the same request nests under them and is the ``llm`` span with the usage, and theirs
  are plain spans keeping the messages; without it, theirs are the ``llm`` spans, with usage;
- the trace's ``group_id`` (the SDK's conversation id) is the session of every span of the trace
  when no ``using_attributes`` block sets one.

Third-party telemetry: by default the SDK also uploads every trace to OpenAI's tracing backend.
``instrument()`` takes that exporting processor out, so traces go only where traceroot sends them,
unless the user configured it before: processors they set or added with
``set_trace_processors`` / ``add_trace_processor`` (the list is then not the SDK's untouched
default, and is kept as it is, traceroot's processor added), an export key given with
``set_tracing_export_api_key``, or a trace provider of their own. To keep OpenAI's upload as
well, add ``default_processor()`` after ``instrument()``. ``uninstrument()`` puts the processors
back as they were. ``OPENAI_AGENTS_DISABLE_TRACING`` switches the SDK's tracing off, and with it
these spans (OpenAI calls are still traced by the OpenAI integration).
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget

_REGISTRATION = "traceroot.integrations.openai_agents.registration"


class OpenAIAgentsIntegration(BaseIntegration):
    name = "openai_agents"
    modules = ("agents",)
    distribution = "openai-agents"
    supported = ">=0.6,<0.25"
    targets = (
        PatchTarget(
            "agents.tracing.provider",
            "DefaultTraceProvider.set_processors",
            f"{_REGISTRATION}:set_processors",
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.openai_agents import registration

            try:
                registration.install()
            except BaseException:
                super().uninstrument()
                raise

    def uninstrument(self) -> None:
        with self._lock:
            import sys

            registration = sys.modules.get(_REGISTRATION)
            if registration is not None:
                registration.remove()
            super().uninstrument()
