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

CrewAI's own telemetry: while traceroot traces, CrewAI's anonymous usage telemetry to its vendor
is off unless the user chose (``CREWAI_DISABLE_TELEMETRY``, ``CREWAI_DISABLE_TRACKING`` or
``OTEL_SDK_DISABLED`` in the environment, whatever its value: CrewAI then decides as always).
traceroot patches CrewAI's own decision, ``Telemetry._is_telemetry_disabled`` (asked on every
telemetry call and when its provider would be made), writes no environment variable, and logs
the first time it says off; ``uninstrument()`` restores the decision. CrewAI tracing (AMP) is
left alone: it runs only when the user asks for it (``CREWAI_TRACING_ENABLED``,
``tracing=True``, or the consent CrewAI asks for after a first run), on its own provider, and does
not touch traceroot's.
"""

from __future__ import annotations

from typing import Any, Final

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget, Wrapper
from traceroot.integrations.telemetry import InstrumentorIntegration
from traceroot.integrations.vendor_telemetry import turned_off, user_chose

# CrewAI's opt-outs of its anonymous telemetry (crewai_core.telemetry); OTEL_SDK_DISABLED is
# one of them, but it switches off every OpenTelemetry SDK provider, traceroot's too.
TELEMETRY_OPT_OUTS: Final = (
    "CREWAI_DISABLE_TELEMETRY",
    "CREWAI_DISABLE_TRACKING",
    "OTEL_SDK_DISABLED",
)
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
        # CrewAI's anonymous telemetry: off unless the user chose (crewai's own Telemetry asks
        # the same classmethod of crewai_core's)
        PatchTarget(
            "crewai_core.telemetry",
            "Telemetry._is_telemetry_disabled",
            "traceroot.integrations.crewai:telemetry_disabled",
            optional=True,
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.crewai import reader

            foreign.read_scope(reader.SCOPE, at_export=reader.read)

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            from traceroot.integrations.crewai import reader

            foreign.unread_scope(reader.SCOPE)


def telemetry_disabled(integration: BaseIntegration) -> Wrapper:
    """``Telemetry._is_telemetry_disabled()``: CrewAI's answer when the user chose, else yes."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if user_chose(TELEMETRY_OPT_OUTS):
            return wrapped(*args, **kwargs)
        turned_off("CrewAI", "set CREWAI_DISABLE_TELEMETRY=false")
        return True

    return wrapper
