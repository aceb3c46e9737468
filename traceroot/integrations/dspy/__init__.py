"""DSPy: its programs, agents, tools and model calls as traceroot spans.

Where the spans come from: DSPy has callbacks (``dspy.settings.callbacks``) but no OpenTelemetry
of its own to switch on, so its OpenInference instrumentor (``pip install "traceroot[dspy]"``) is
the best-kept source: it traces every module call (``Module.__call__``, ``Predict``, adapters),
``LM`` calls and ``Tool`` calls, and traceroot runs it against the process's provider with
content capture following ``TRACEROOT_CAPTURE_CONTENT``. Where its spans miss the bar, a few
small patches and readers of this package complete them (each says why):

- a ``dspy.ReAct`` run (an agent) is an ``agent`` span named after the agent (:mod:`.agents`),
  not the plain chain ``ReAct.forward``;
- a model call's token usage: the instrumentor records none, and DSPy 3.4 calls most providers
  with its own HTTP client (lm15), not a provider SDK traceroot instruments, so the ``LM`` span
  takes it from DSPy's own call result (:mod:`.usage`). When the call goes through an SDK that
  traceroot does instrument (LiteLLM, DSPy's engine before 3.4 and with ``engine="litellm"``,
  uses the ``openai`` client for OpenAI models), that SDK's span nests under the ``LM`` span and
  carries the usage; the ``LM`` span becomes a plain span (:mod:`traceroot.model_calls`), so
  usage is counted once either way;
- tool spans are named after the tool, with its arguments and result (:mod:`.reading`).

DSPy has no session or conversation id of its own; ``using_attributes`` sets the session. The
work ``dspy.Parallel`` hands to its thread pool carries the caller's context through traceroot's
context carrying into threads (always on), and ``dspy.asyncify``'s worker threads get it from
anyio, so their spans keep their session and their parent.

Nothing here switches on telemetry of DSPy's or LiteLLM's own (DSPy turns LiteLLM's off). DSPy
itself, traced or not, fetches LiteLLM's model price list from GitHub on first use unless
``LITELLM_LOCAL_MODEL_COST_MAP=true``.
"""

from __future__ import annotations

from traceroot.foreign import read_scope, unread_scope
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration

from .reading import SCOPE, read_at_export, read_at_start


class DSPyIntegration(InstrumentorIntegration):
    name = "dspy"
    modules = ("dspy",)
    distribution = "dspy"
    supported = ">=3.0,<4"
    instrumentor = "openinference.instrumentation.dspy:DSPyInstrumentor"
    telemetry_distribution = "openinference-instrumentation-dspy"
    extra = "dspy"
    targets = (
        PatchTarget(
            "dspy.predict.react",
            "ReAct.forward",
            "traceroot.integrations.dspy.agents:agent_run",
            overrides=True,
        ),
        PatchTarget(
            "dspy.predict.react",
            "ReAct.aforward",
            "traceroot.integrations.dspy.agents:agent_run",
            overrides=True,
        ),
        PatchTarget(
            "dspy.clients.execution", "finalize", "traceroot.integrations.dspy.usage:finalize"
        ),
        PatchTarget(
            "dspy.clients.base_lm",
            "BaseLM._process_lm_response",
            "traceroot.integrations.dspy.usage:process_lm_response",
            optional=True,
        ),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            read_scope(SCOPE, at_start=read_at_start, at_export=read_at_export)

    def uninstrument(self) -> None:
        with self._lock:
            unread_scope(SCOPE)
            super().uninstrument()
