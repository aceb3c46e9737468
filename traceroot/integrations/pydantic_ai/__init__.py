"""The Pydantic AI integration: Pydantic AI's own OpenTelemetry spans, switched on and read.

Where the spans come from, and why: Pydantic AI ships its own OpenTelemetry instrumentation
(``Agent.instrument_all(InstrumentationSettings(...))``), written in the GenAI conventions by the
framework's maintainers and kept in step with every release: ``invoke_agent <agent>`` for a run,
``chat <model>`` for each model request (messages, usage, tool definitions), ``execute_tool
<tool>`` for each tool call (arguments, result, errors). That is the best-kept source, so this
integration switches it on against the process's tracer provider (the one traceroot owns or
joined) and patches nothing; an OpenInference instrumentor for Pydantic AI would only re-read the
same spans (OpenInference's Pydantic AI package is a span processor over them). Nothing is sent
anywhere else: no Logfire, no exporter of Pydantic AI's.

- Content (prompts, replies, tool arguments and results) follows ``TRACEROOT_CAPTURE_CONTENT``,
  read when each span is recorded.
- The newest data format the installed version has: 6 (tool results are messages of role
  ``tool``, as the GenAI conventions pair them with their ``tool_call_response`` parts), else 5,
  4 or 3 (older Pydantic AI 1.x; before 5, agent and tool spans are typed by their names).
- Agent runs are ``agent`` spans named after the agent, tool calls ``tool`` spans named after the
  tool; a ``chat`` span is the model call's ``llm`` span, unless traceroot's OpenAI integration
  is on too: the OpenAI span then nests under it and is the llm span, the ``chat`` span a plain
  span without usage (:mod:`traceroot.model_calls`).
- A run's ``conversation_id`` (Pydantic AI's, kept across the runs of one conversation) is the
  trace's session when no ``using_attributes`` block or ``update_current_trace`` names one.

An app that set its own default before traceroot (``logfire.instrument_pydantic_ai()``, its own
``Agent.instrument_all(...)``) keeps it: traceroot only reads the spans that reach its tracer
provider (logged once). One set after traceroot replaces traceroot's, as it would any other.
``uninstrument()`` puts the previous ``Agent.instrument_all`` setting back. Agents given their own
instrumentation (``agent.instrument``, the ``Instrumentation`` capability) keep it: traceroot
changes only the default; with content off, their content is still left out of what it exports.
"""

from __future__ import annotations

from typing import Any, ClassVar

from traceroot.foreign import read_scope, unread_scope
from traceroot.integrations.base import BaseIntegration
from traceroot.logs import first_time, logger

_UNSET: Any = object()


class PydanticAIIntegration(BaseIntegration):
    name = "pydantic_ai"
    modules = ("pydantic_ai",)
    distribution = "pydantic-ai-slim"
    supported = ">=1.0.18,<3"
    # The tracer Pydantic AI names its spans' instrumentation scope after.
    scope: ClassVar[str] = "pydantic-ai"

    def __init__(self) -> None:
        super().__init__()
        self._previous: Any = _UNSET  # Agent._instrument_default before traceroot set it
        self._installed: Any = None  # what traceroot set it to

    def instrument(self) -> None:
        """Make traceroot's instrumentation settings the default of every agent, unless the app
        chose a default of its own already. Idempotent."""
        with self._lock:
            if self._instrumented:
                return
            from pydantic_ai import Agent

            from traceroot.integrations.pydantic_ai.spans import at_export, at_start

            read_scope(self.scope, at_start=at_start, at_export=at_export)
            previous = vars(Agent).get("_instrument_default", _UNSET)
            if previous is _UNSET or previous is False:
                from traceroot.integrations.pydantic_ai.settings import instrumentation_settings

                settings = instrumentation_settings()
                self._previous = previous
                Agent.instrument_all(settings)
                self._installed = settings
            elif first_time("pydantic_ai:own-default"):
                # ``logfire.instrument_pydantic_ai()`` or the app's own ``instrument_all``: its
                # spans go where it configured; traceroot reads those that reach its provider.
                logger.info(
                    "traceroot: Pydantic AI's agents already have an instrumentation default "
                    "(Agent.instrument_all); traceroot keeps it and reads the spans that reach "
                    "its tracer provider"
                )
            super().instrument()

    def uninstrument(self) -> None:
        """Put the previous ``Agent.instrument_all`` setting back, unless the app set another
        since (or had its own before traceroot, which then was never replaced)."""
        with self._lock:
            installed, self._installed = self._installed, None
            previous, self._previous = self._previous, _UNSET
            if installed is not None:
                from pydantic_ai import Agent

                if vars(Agent).get("_instrument_default") is installed:
                    if previous is _UNSET:
                        delattr(Agent, "_instrument_default")
                    else:
                        Agent.instrument_all(previous)
            if self._instrumented:
                unread_scope(self.scope)
            super().uninstrument()
