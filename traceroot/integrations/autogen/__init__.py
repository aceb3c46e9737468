"""The AutoGen AgentChat integration: AutoGen's own OpenTelemetry spans, read like traceroot's.

Where the telemetry comes from, and why: autogen-core (0.7) writes spans in the OpenTelemetry
GenAI conventions itself, through the global tracer provider (the one traceroot owns or joined),
with nothing to switch on: ``invoke_agent <agent>`` around every agent run (``run`` and
``run_stream``, and each turn of a team), ``execute_tool <tool>`` around every tool call, with the
tool's name and call id, and its exception and status when it fails. Those are agent and tool
spans with the right parents, so they are the best-kept source (order (1) of the integration
contract); the OpenInference instrumentor would repeat each of them under other names, and wrap
the model client in a second model span. The model call itself is the ``openai`` SDK's, so
traceroot's OpenAI integration makes its one ``llm`` span, nested under the agent span.

What AutoGen's spans lack, this integration adds, and nothing else:

- a function tool's arguments and result (``gen_ai.tool.call.arguments`` / ``.result``), set on
  AutoGen's own tool span from inside it, following ``TRACEROOT_CAPTURE_CONTENT``;
- names: agent spans are exported named after the agent, tool spans after the tool;
- an agent's construction outside any trace makes no ``create_agent`` span, which would be a
  trace of its own beside the run's; inside a trace it stays, as a plain span (not an agent run).

AutoGen has no session or conversation id of its own: the session is ``using_attributes``'.
AutoGen keeps writing its spans after ``uninstrument()`` (it always does, to whatever global
provider there is); they are then read as any other tracer's GenAI spans.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget

_HOOKS = "traceroot.integrations.autogen.hooks"
SCOPE = "autogen-core"  # the tracer AutoGen's GenAI spans come from


class AutoGenIntegration(BaseIntegration):
    name = "autogen"
    modules = ("autogen_agentchat",)
    distribution = "autogen-agentchat"
    supported = ">=0.7,<0.8"
    targets = (
        PatchTarget(
            "autogen_core.tools._function_tool", "FunctionTool.run", f"{_HOOKS}:function_tool_run"
        ),
        PatchTarget(
            "autogen_agentchat.agents._base_chat_agent",
            "trace_create_agent_span",
            f"{_HOOKS}:create_agent_span",
            replaces=True,
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.autogen import hooks

            foreign.read_scope(SCOPE, at_start=hooks.at_start, at_export=hooks.at_export)

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            foreign.unread_scope(SCOPE)
