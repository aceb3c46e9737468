"""Pieces the OpenAI endpoint modules share: parameters, identity, finish reasons, tools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from traceroot import genai, semconv
from traceroot.genai import Attributes, field


def record_parameters(
    attributes: Attributes, body: Mapping[str, Any], names: Iterable[str]
) -> None:
    """Request parameters: the standard ones as ``gen_ai.request.*``; all of them as JSON too when
    some have no standard attribute (tool_choice, response_format...)."""
    given = {name: body[name] for name in names if body.get(name) is not None}
    genai.set_model_parameters(attributes, given, as_json="unmapped")
    genai.set_if(attributes, semconv.OPENAI_REQUEST_SERVICE_TIER, given.get("service_tier"))


def record_output_type(attributes: Attributes, format_type: object) -> None:
    if format_type in ("json_schema", "json_object"):
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "json"
    elif format_type == "text":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "text"


def record_identity(attributes: Attributes, response: Any) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
    genai.set_if(attributes, semconv.OPENAI_RESPONSE_SERVICE_TIER, field(response, "service_tier"))


def record_finish_reasons(attributes: Attributes, reasons: Iterable[object]) -> None:
    known = [str(reason) for reason in reasons if reason is not None]
    if known:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = known


def record_tool_definitions(attributes: Attributes, tools: object) -> None:
    """Tool schemas the model was offered (kept when content capture is off: they are code)."""
    if isinstance(tools, (list, tuple)) and tools:
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools))
