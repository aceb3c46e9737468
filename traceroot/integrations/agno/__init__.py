"""The Agno integration: agent runs, model calls and tool calls of Agno agents, teams and
workflows.

Telemetry source: OpenInference's Agno instrumentor (``pip install "traceroot[agno]"``), run
against the process's tracer provider. Agno's own tracing (``agno.tracing.setup_tracing``) is that
same instrumentor with an exporter into Agno's database, installing its own provider when none is
set; switching it on would add nothing over running the instrumentor directly, and would bring a
second exporter. So the instrumentor it is, with traceroot's readers on top
(:mod:`traceroot.integrations.agno.spans`):

- agent and team spans are ``agent`` spans named after the agent (``Agent(name=...)``), not
  OpenInference's ``Weather_Agent.run``;
- tool spans carry ``gen_ai.tool.name`` and, with content on, the call's arguments and result; a
  tool that raised (Agno catches it and hands the model the message) gets one exception event
  (:mod:`traceroot.integrations.agno.tools`);
- Agno's ``session_id`` / ``user_id`` (on the agent or the run) become the whole trace's session
  and user when no ``using_attributes`` block sets them, so every span of the run carries them,
  the OpenAI calls traceroot records included;
- a model call is counted once: Agno's model span (``OpenAIChat.invoke``) wraps the OpenAI SDK's
  request, which traceroot's OpenAI integration records as the ``llm`` span nested under it; the
  Agno span becomes a plain span without usage (:mod:`traceroot.model_calls`).

Agno sends a usage event per run to agno.com unless ``AGNO_TELEMETRY=false`` or the agent's
``telemetry=False``. While traceroot traces, an agent, team or workflow sends none unless the
user chose: ``AGNO_TELEMETRY`` set (either way; Agno then decides as always) or ``telemetry=``
passed to its constructor by the app. traceroot patches Agno's own decision
(:mod:`traceroot.integrations.agno.telemetry`) and writes no environment variable; the first
object it turns off is logged once. ``uninstrument()`` restores Agno's decision (an object already
turned off stays off, as after Agno's own override).
"""

from __future__ import annotations

from typing import Final

from traceroot import foreign
from traceroot.integrations.agno.telemetry import VENDOR_TELEMETRY_ENV
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration

SCOPE: Final = "openinference.instrumentation.agno"
_TOOLS: Final = "traceroot.integrations.agno.tools"
_TELEMETRY: Final = "traceroot.integrations.agno.telemetry"

__all__ = ["SCOPE", "VENDOR_TELEMETRY_ENV", "AgnoIntegration"]


class AgnoIntegration(InstrumentorIntegration):
    name = "agno"
    modules = ("agno",)
    distribution = "agno"
    supported = ">=3.1,<4"
    instrumentor = "openinference.instrumentation.agno:AgnoInstrumentor"
    telemetry_distribution = "openinference-instrumentation-agno"
    extra = "agno"
    targets = (
        PatchTarget("agno.tools.function", "FunctionCall._execute", f"{_TOOLS}:execute", True),
        PatchTarget("agno.tools.function", "FunctionCall._aexecute", f"{_TOOLS}:aexecute", True),
        PatchTarget("agno.tools.function", "log_exception", f"{_TOOLS}:log_exception", True),
        # Agno's usage events: off unless the user chose (see the module's docstring)
        PatchTarget("agno.agent.agent", "Agent.__init__", f"{_TELEMETRY}:constructor", True),
        PatchTarget("agno.team.team", "Team.__init__", f"{_TELEMETRY}:constructor", True),
        PatchTarget(
            "agno.workflow.workflow", "Workflow.__init__", f"{_TELEMETRY}:constructor", True
        ),
        PatchTarget("agno.agent._init", "set_telemetry", f"{_TELEMETRY}:set_telemetry", True),
        PatchTarget("agno.team._init", "_set_telemetry", f"{_TELEMETRY}:set_telemetry", True),
        PatchTarget(
            "agno.workflow.workflow",
            "Workflow._set_telemetry",
            f"{_TELEMETRY}:set_telemetry",
            True,
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.agno import spans

            foreign.read_scope(SCOPE, at_start=spans.at_start, at_export=spans.at_export)

    def uninstrument(self) -> None:
        with self._lock:
            foreign.unread_scope(SCOPE)
            super().uninstrument()
