"""The Hugging Face smolagents integration: agent runs, steps, model calls and tool calls of
``ToolCallingAgent`` and ``CodeAgent``, managed agents included.

Telemetry source: OpenInference's smolagents instrumentor (``pip install
"traceroot[smolagents]"``), run against the process's tracer provider. smolagents has no tracing
of its own (its documentation points to this instrumentor) and sends no telemetry anywhere, so
there is nothing of the framework's to switch on or off. traceroot's readers
(:mod:`traceroot.integrations.smolagents.spans`) make its spans read like traceroot's own:

- agent runs are ``agent`` spans named after the agent (``name=``, else its class), not
  ``<name>.run``;
- tool spans are named after the tool (the instrumentor names them after the tool's class, which
  for every ``@tool`` function is ``SimpleTool``) and carry ``gen_ai.tool.name`` and, with content
  on, the call's arguments and result; a tool that raised is recorded once, on its span;
- a run that raises is ended and leaves the context as it found it (the instrumentor leaves both
  open: :mod:`traceroot.integrations.smolagents.runs`);
- a model call is counted once: smolagents' model span (``OpenAIServerModel.generate``) wraps the
  OpenAI SDK's request, which traceroot's OpenAI integration records as the ``llm`` span nested
  under it; the smolagents span becomes a plain span without usage (:mod:`traceroot.model_calls`).

smolagents has no session or user of its own: a run takes those of the ``using_attributes`` block
around it.
"""

from __future__ import annotations

from typing import Final

from traceroot import foreign
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration

SCOPE: Final = "openinference.instrumentation.smolagents"


class SmolagentsIntegration(InstrumentorIntegration):
    name = "smolagents"
    modules = ("smolagents",)
    distribution = "smolagents"
    supported = ">=1.26,<2"
    instrumentor = "openinference.instrumentation.smolagents:SmolagentsInstrumentor"
    telemetry_distribution = "openinference-instrumentation-smolagents"
    extra = "smolagents"
    targets = (
        PatchTarget(
            "smolagents.agents", "MultiStepAgent.run", "traceroot.integrations.smolagents.runs:run"
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.smolagents import spans

            foreign.read_scope(SCOPE, at_export=spans.at_export)

    def uninstrument(self) -> None:
        with self._lock:
            foreign.unread_scope(SCOPE)
            super().uninstrument()
