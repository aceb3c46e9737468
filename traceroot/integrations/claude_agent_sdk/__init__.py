"""The Claude Agent SDK integration: OpenInference's instrumentor, plus one llm span per model call.

Where the spans come from, and why: the SDK has no tracing of its own in the Python process. The
Claude Code CLI it drives can export OpenTelemetry metrics and log events, but from its own Node
process to an OTLP endpoint, not as spans on traceroot's provider. OpenInference's
instrumentor (``pip install "traceroot[claude-agent-sdk]"``) is the best-kept source: run against
the process's provider, it makes an ``agent`` span per ``query()`` (and per
``ClaudeSDKClient.receive_response()``), subagent spans, and a ``tool`` span per tool use with its
arguments, result and error, content following ``TRACEROOT_CAPTURE_CONTENT``.

It makes no model-call span: the run's usage sits on the agent span, where traceroot's reader of
foreign spans drops it (usage belongs to llm spans only). So traceroot adds what it misses, at
one choke point, the SDK's parser of the CLI's messages (:mod:`.turns`): one ``llm`` span per
model call (an assistant message id), with its model, output and the usage the CLI reports for
that call, so a run's tokens are counted once; and the SDK's ``session_id`` as the trace's
session when no ``using_attributes`` block names one. :mod:`.readers` maps the instrumentor's
tool call ids and keeps tool arguments out when content capture is off.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import PatchTarget
from traceroot.integrations.telemetry import InstrumentorIntegration

_TURNS = "traceroot.integrations.claude_agent_sdk.turns:parse_message"


class ClaudeAgentSDKIntegration(InstrumentorIntegration):
    name = "claude_agent_sdk"
    modules = ("claude_agent_sdk",)
    distribution = "claude-agent-sdk"
    supported = ">=0.2.190,<0.3"
    instrumentor = "openinference.instrumentation.claude_agent_sdk:ClaudeAgentSDKInstrumentor"
    telemetry_distribution = "openinference-instrumentation-claude-agent-sdk"
    extra = "claude-agent-sdk"
    targets = (
        # query() parses with the name its module imported; ClaudeSDKClient looks it up in the
        # parser's module on each call. One message goes through one of the two.
        PatchTarget("claude_agent_sdk._internal.client", "parse_message", _TURNS),
        PatchTarget("claude_agent_sdk._internal.message_parser", "parse_message", _TURNS),
    )

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            super().instrument()
            from traceroot.integrations.claude_agent_sdk import readers

            foreign.read_scope(readers.SCOPE, at_export=readers.at_export)

    def uninstrument(self) -> None:
        with self._lock:
            super().uninstrument()
            from traceroot.integrations.claude_agent_sdk import readers

            foreign.unread_scope(readers.SCOPE)
