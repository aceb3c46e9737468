"""The Microsoft Agent Framework integration: its own OpenTelemetry instrumentation, switched on.

Where the spans come from, and why: Agent Framework is instrumented by its authors in the
OpenTelemetry GenAI conventions (``agent_framework.observability``): ``invoke_agent <agent>``,
``chat <model>`` and ``execute_tool <tool>`` spans with agent names, messages, tool arguments and
results, usage and errors. It writes through the global tracer provider, the one traceroot owns
or joined, so that is the best-kept source there is: no OpenInference instrumentor exists for it,
and patching it ourselves would repeat what it records. traceroot

- switches it on with ``enable_instrumentation()`` (never ``configure_otel_providers()``, which
  would set up a provider and exporters of its own, to an OTLP endpoint or Azure Monitor), its
  sensitive data (messages, tool arguments and results) following ``TRACEROOT_CAPTURE_CONTENT``;
  an app's ``disable_instrumentation()`` is left as it is;
- reads its spans (:mod:`.readers`): typed when they start, so a ``chat`` span wrapping the request
  traceroot's OpenAI integration records becomes a plain span without usage (one llm span per
  call), and the agent's conversation id as the trace's session when no block sets one.

``uninstrument()`` puts Agent Framework's two settings back as they were and stops reading.
"""

from __future__ import annotations

from typing import Any

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration


class AgentFrameworkIntegration(BaseIntegration):
    name = "agent_framework"
    modules = ("agent_framework",)
    distribution = "agent-framework-core"
    supported = ">=1.26,<2"

    def __init__(self) -> None:
        super().__init__()
        # Agent Framework's settings object and its two values before instrument().
        self._saved: tuple[Any, bool, bool] | None = None

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            from agent_framework import observability

            from traceroot.config import current
            from traceroot.integrations.agent_framework import readers

            settings = observability.OBSERVABILITY_SETTINGS
            saved = (settings, settings.enable_instrumentation, settings.enable_sensitive_data)
            observability.enable_instrumentation(enable_sensitive_data=current().capture_content)
            self._saved = saved
            foreign.read_scope(
                readers.SCOPE, at_start=readers.at_start, at_export=readers.at_export
            )
            self._instrumented = True

    def uninstrument(self) -> None:
        with self._lock:
            saved, self._saved = self._saved, None
            if saved is not None:
                settings, instrumentation, sensitive = saved
                settings.enable_instrumentation = instrumentation
                settings.enable_sensitive_data = sensitive
                from traceroot.integrations.agent_framework import readers

                foreign.unread_scope(readers.SCOPE)
            self._instrumented = False
