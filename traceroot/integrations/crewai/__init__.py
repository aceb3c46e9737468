"""The CrewAI integration: a crew's kickoff, its agents, tools and model calls as one trace.

Where the spans come from, and why: CrewAI's OpenTelemetry use is not a source. Its built-in
telemetry is anonymous usage data, sent on a provider of its own to CrewAI's servers; its
"CrewAI tracing" (AMP) builds spans from its event bus on another provider of its own, for its
hosted service, never current in the app's context. So the spans come from OpenInference's
CrewAI instrumentor (``pip install "traceroot[crewai]"``), run against the process's provider:

- ``Crew.kickoff`` (and ``Flow.kickoff``) is the root, a plain span;
- each task an agent runs (and a standalone ``Agent.kickoff``) is an ``agent`` span named after
  the agent's role;
- each tool run is a ``tool`` span named after the tool, with its arguments and result, an
  error recorded once on it;
- model calls are not OpenInference's: CrewAI 1.x calls OpenAI models through the ``openai``
  SDK, so traceroot's OpenAI integration makes the one ``llm`` span per call, with its usage,
  under the agent span (the instrumentor makes no model spans of its own, so nothing doubles).

``await crew.akickoff()``, CrewAI's native async path, is not wrapped by the instrumentor:
traceroot's own wrappers (:mod:`traceroot.integrations.crewai.native_async`) give it the same
crew and agent spans. Names are fixed at export by :mod:`traceroot.integrations.crewai.reader`.

A crew has no session of its own (its ``id`` names the Crew object, not a conversation): the
session is the one of the active ``traceroot.using_attributes`` block.

CrewAI's own telemetry: ``instrument()`` leaves an explicit setting alone
(``CREWAI_DISABLE_TELEMETRY``, ``CREWAI_DISABLE_TRACKING`` or ``OTEL_SDK_DISABLED`` in the
environment, whatever its value), but when none is set, it sets ``CREWAI_DISABLE_TELEMETRY=true``,
so CrewAI's anonymous usage telemetry does not leave for its vendor, and logs that once;
``uninstrument()`` removes it again. CrewAI reads the variable on every telemetry call, so this
holds whenever CrewAI was imported. CrewAI tracing (AMP) is left alone: it runs only when the
user asks for it (``CREWAI_TRACING_ENABLED``, ``tracing=True``, or the consent CrewAI asks for
after a first run), on its own provider, and does not touch traceroot's.
"""

from __future__ import annotations

import os
from typing import Final

from traceroot import foreign
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration
from traceroot.logs import first_time, logger

# CrewAI's opt-outs of its anonymous telemetry (crewai_core.telemetry); OTEL_SDK_DISABLED is
# one of them, but it switches off every OpenTelemetry SDK provider, traceroot's too.
TELEMETRY_OPT_OUTS: Final = (
    "CREWAI_DISABLE_TELEMETRY",
    "CREWAI_DISABLE_TRACKING",
    "OTEL_SDK_DISABLED",
)
_OPT_OUT: Final = "CREWAI_DISABLE_TELEMETRY"
_OPTED_OUT: Final = "true"
_ASYNC: Final = "traceroot.integrations.crewai.native_async"


class CrewAIIntegration(InstrumentorIntegration):
    name = "crewai"
    modules = ("crewai",)
    distribution = "crewai"
    supported = ">=1.15,<2"
    instrumentor = "openinference.instrumentation.crewai:CrewAIInstrumentor"
    telemetry_distribution = "openinference-instrumentation-crewai"
    extra = "crewai"
    # The native async path, which the instrumentor does not wrap (see native_async).
    targets = (
        PatchTarget("crewai.crew", "Crew.akickoff", f"{_ASYNC}:crew_akickoff", optional=True),
        PatchTarget(
            "crewai.task", "Task._aexecute_core", f"{_ASYNC}:task_aexecute_core", optional=True
        ),
    )

    def __init__(self) -> None:
        super().__init__()
        self._set_opt_out = False

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.crewai import reader

            foreign.read_scope(reader.SCOPE, at_export=reader.read)
            self._keep_telemetry_home()

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            from traceroot.integrations.crewai import reader

            foreign.unread_scope(reader.SCOPE)
            if self._set_opt_out and os.environ.get(_OPT_OUT) == _OPTED_OUT:
                del os.environ[_OPT_OUT]
            self._set_opt_out = False

    def _keep_telemetry_home(self) -> None:
        """Turn CrewAI's anonymous telemetry off, unless the user chose either way."""
        if any(variable in os.environ for variable in TELEMETRY_OPT_OUTS):
            return
        os.environ[_OPT_OUT] = _OPTED_OUT
        self._set_opt_out = True
        if first_time("crewai:telemetry-off"):
            logger.info(
                "traceroot: CrewAI's anonymous telemetry to its vendor is off "
                "(%s=%s); set %s=false before traceroot.instrument() to keep it on",
                _OPT_OUT,
                _OPTED_OUT,
                _OPT_OUT,
            )
