"""traceroot's readers of the OpenInference Agno instrumentor's spans (:func:`foreign.read_scope`).

At start, an agent or team span brings the run's Agno session and user: when no block sets them
they become the trace's (as ``update_current_trace`` would), so every span of the run, the OpenAI
calls traceroot records included, carries them. When a block sets them, the live span keeps the
block's: the instrumentor writes the run's own ids right after the span started, over the ones
the processor stamped, and those writes are turned back (:func:`_keep_ids`), so every processor
and exporter of the provider sees the block's session. At export, agent spans take the agent's
name and tool spans the GenAI tool attributes.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import Span

from traceroot import foreign, semconv, stamping
from traceroot.config import current as current_settings
from traceroot.trace_state import open_traces

_AGENT_NAME: Final = "agent.name"  # OpenInference's SpanAttributes.AGENT_NAME
# Agno's instrumentor puts the call's arguments here
_TOOL_PARAMETERS: Final = semconv.OPENINFERENCE_TOOL_PARAMETERS
_IDS: Final = (semconv.SESSION_ID, semconv.USER_ID)


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
    if kept:
        _keep_ids(span, trace_id, kept)
    if found:
        open_traces.update(trace_id, found)


def _keep_ids(span: Span, trace_id: int, kept: dict[str, Any]) -> None:
    """Have the live ``span`` keep the session and user a block set (``kept``) when its
    instrumentor writes the run's own over them; values set for the whole trace later
    (``update_current_trace``) still win, as they do on every span. The span's own
    ``set_attribute(s)`` are shadowed on the instance by functions that hold it weakly: no
    reference cycle keeps a finished span alive."""
    owner = type(span)
    ref = weakref.ref(span)

    def value(key: str, given: Any) -> Any:
        return open_traces.overrides_of(trace_id).get(key, kept[key])

    def set_attribute(key: str, given: Any) -> None:
        live = ref()
        if live is not None:
            owner.set_attribute(live, key, value(key, given) if key in kept else given)

    def set_attributes(attributes: Any) -> None:
        live = ref()
        if live is None:
            return
        if not kept.keys().isdisjoint(attributes):
            attributes = {
                key: value(key, given) if key in kept else given
                for key, given in attributes.items()
            }
        owner.set_attributes(live, attributes)

    span.set_attribute = set_attribute  # type: ignore[method-assign,assignment]
    span.set_attributes = set_attributes  # type: ignore[method-assign]


def at_export(name: str, attributes: dict[str, Any]) -> str:
    if not current_settings().capture_content:
        # OpenInference's content settings were read at instrument()
        foreign.drop_content(attributes)
    kind = attributes.get(semconv.OPENINFERENCE_SPAN_KIND)
    if kind == "AGENT":
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
