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
``telemetry=False``. When the environment does not set ``AGNO_TELEMETRY`` at all, instrument()
sets it to ``false`` (logged once) and uninstrument() removes it again: no telemetry leaves for a
third party the user did not choose. Set ``AGNO_TELEMETRY=true`` before ``traceroot.instrument()``
to keep Agno's.
"""

from __future__ import annotations

import os
from typing import Final

from traceroot import foreign
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration
from traceroot.logs import first_time, logger

SCOPE: Final = "openinference.instrumentation.agno"
VENDOR_TELEMETRY_ENV: Final = "AGNO_TELEMETRY"
_TOOLS: Final = "traceroot.integrations.agno.tools"


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
    )

    def __init__(self) -> None:
        super().__init__()
        self._set_vendor_env = False

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.agno import spans

            foreign.read_scope(SCOPE, at_start=spans.at_start, at_export=spans.at_export)
            if os.environ.get(VENDOR_TELEMETRY_ENV) is None:
                os.environ[VENDOR_TELEMETRY_ENV] = "false"
                self._set_vendor_env = True
                if first_time("agno:vendor-telemetry"):
                    logger.info(
                        "traceroot: set %s=false so Agno sends no usage events to agno.com; "
                        "set it to true before traceroot.instrument() to keep them",
                        VENDOR_TELEMETRY_ENV,
                    )

    def uninstrument(self) -> None:
        with self._lock:
            foreign.unread_scope(SCOPE)
            if self._set_vendor_env:
                if os.environ.get(VENDOR_TELEMETRY_ENV) == "false":
                    del os.environ[VENDOR_TELEMETRY_ENV]
                self._set_vendor_env = False
            super().uninstrument()
