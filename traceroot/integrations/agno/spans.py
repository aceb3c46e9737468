"""traceroot's readers of the OpenInference Agno instrumentor's spans (:func:`foreign.read_scope`).

At start, an agent or team span brings the run's Agno session and user: when no block sets them
they become the trace's (as ``update_current_trace`` would), so every span of the run, the OpenAI
calls traceroot records included, carries them. At export, agent spans take the agent's name and
tool spans the GenAI tool attributes.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import Span

from traceroot import semconv, stamping
from traceroot.config import current as current_settings
from traceroot.trace_state import open_traces

_AGENT_NAME: Final = "agent.name"  # OpenInference's SpanAttributes.AGENT_NAME
# Agno's instrumentor puts the call's arguments here
_TOOL_PARAMETERS: Final = semconv.OPENINFERENCE_TOOL_PARAMETERS
_NODE_ID: Final = "graph.node.id"  # unique per agent or team run
_IDS: Final = (semconv.SESSION_ID, semconv.USER_ID)
# graph.node.id -> the session and user stamped on an agent span at start, until it is exported.
_restamp: dict[str, dict[str, Any]] = {}
_MAX_RESTAMP: Final = 10_000


def at_start(span: Span) -> None:
    attributes = span.attributes or {}
    if attributes.get(semconv.OPENINFERENCE_SPAN_KIND) != "AGENT":
        return
    trace_id = span.get_span_context().trace_id
    stamped = stamping.span_attributes(otel_context.get_current(), span)
    found: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for key in _IDS:
        if stamped.get(key) is not None:
            kept[key] = stamped[key]
            continue
        value = attributes.get(key)
        if isinstance(value, str) and value and not open_traces.has_override(trace_id, key):
            found[key] = value  # not set by a block, nor by an outer agent's run
    node = attributes.get(_NODE_ID)
    if kept and isinstance(node, str):
        # The instrumentor sets the run's own ids again right after the span started, over the
        # block's that the processor stamped: put those back at export.
        if len(_restamp) >= _MAX_RESTAMP:
            _restamp.pop(next(iter(_restamp)), None)
        _restamp[node] = kept
    if found:
        open_traces.update(trace_id, found)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    kind = attributes.get(semconv.OPENINFERENCE_SPAN_KIND)
    if kind == "AGENT":
        node = attributes.get(_NODE_ID)
        kept = _restamp.pop(node, None) if isinstance(node, str) else None
        if kept:
            attributes.update(kept)
        agent = attributes.get(_AGENT_NAME)
        if isinstance(agent, str) and agent:
            return agent
    elif kind == "TOOL":
        # The arguments again, under a name that says otherwise: kept once, as the GenAI ones.
        arguments = attributes.pop(_TOOL_PARAMETERS, None)
        if current_settings().capture_content:
            _copy(attributes, semconv.OPENINFERENCE_INPUT_VALUE, semconv.GEN_AI_TOOL_CALL_ARGUMENTS)
            if semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in attributes and arguments is not None:
                attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = arguments
            _copy(attributes, semconv.OPENINFERENCE_OUTPUT_VALUE, semconv.GEN_AI_TOOL_CALL_RESULT)
    return name


def _copy(attributes: dict[str, Any], source: str, target: str) -> None:
    value = attributes.get(source)
    if value is not None and target not in attributes:
        attributes[target] = value
