"""The instrumentor's tool spans, read as traceroot's: named after the tool, with its arguments
and result.

The instrumentor names a tool span ``<tool>.__call__`` (``.acall``) and records only the bound
arguments of ``Tool.__call__(**kwargs)`` (``{"kwargs": {...}}``) and the JSON of the result. At
start (on the live span, so every destination sees it) the span takes the tool's name and
``gen_ai.tool.name``; at export (on traceroot's copy) the arguments and result go under
``gen_ai.tool.call.arguments`` / ``gen_ai.tool.call.result``. With content capture off, no span
of the instrumentor's keeps content at export, whatever the instrumentor was set up with.
"""

from __future__ import annotations

import json
from typing import Any, Final

from opentelemetry.sdk.trace import Span

from traceroot import foreign, semconv, spans
from traceroot.config import current as current_settings

SCOPE: Final = "openinference.instrumentation.dspy"
# Values of openinference.span.kind.
LLM_KIND: Final = "LLM"
AGENT_KIND: Final = "AGENT"
_TOOL: Final = "TOOL"
_CALL_SUFFIXES: Final = (".__call__", ".acall")


def read_at_start(span: Span) -> None:
    attributes = span.attributes or {}
    if attributes.get(semconv.OPENINFERENCE_SPAN_KIND) != _TOOL:
        return
    name = tool_name(span.name)
    span.update_name(name)
    span.set_attribute(semconv.GEN_AI_TOOL_NAME, name)


def read_at_export(name: str, attributes: dict[str, Any]) -> str:
    if not current_settings().capture_content:
        # OpenInference's content settings were read at instrument()
        foreign.drop_content(attributes)
    if attributes.get(semconv.OPENINFERENCE_SPAN_KIND) != _TOOL:
        return name
    name = tool_name(name)
    attributes.setdefault(semconv.GEN_AI_TOOL_NAME, name)
    arguments = _json(attributes.get(semconv.OPENINFERENCE_INPUT_VALUE))
    if isinstance(arguments, dict) and set(arguments) <= {"kwargs", "args"}:
        # Tool.__call__(**kwargs): the call's arguments are the keyword arguments
        arguments = arguments.get("kwargs") if not arguments.get("args") else arguments
    content: dict[str, Any] = {}
    if arguments is not None:
        spans.content_into(content, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, arguments)
        spans.content_into(content, semconv.SPAN_INPUT, arguments)
    if semconv.OPENINFERENCE_OUTPUT_VALUE in attributes:
        result = _json(attributes[semconv.OPENINFERENCE_OUTPUT_VALUE])
        spans.content_into(content, semconv.GEN_AI_TOOL_CALL_RESULT, result)
    for key, value in content.items():
        attributes.setdefault(key, value)
    return name


def tool_name(span_name: str) -> str:
    for suffix in _CALL_SUFFIXES:
        if span_name.endswith(suffix):
            return span_name[: -len(suffix)]
    return span_name


def _json(value: object) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
