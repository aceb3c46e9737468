"""Pieces the OpenAI endpoint modules share: parameters, identity, finish reasons, tools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations.chat_completions import (  # shared with other providers' chat APIs
    record_finish_reasons,
    record_output_type,
    record_tool_definitions,
)

__all__ = [
    "record_finish_reasons",
    "record_identity",
    "record_output_type",
    "record_parameters",
    "record_tool_definitions",
]


def record_parameters(
    attributes: Attributes, body: Mapping[str, Any], names: Iterable[str]
) -> None:
    """Request parameters: the standard ones as ``gen_ai.request.*``; all of them as JSON too when
    some have no standard attribute (tool_choice, response_format...)."""
    given = {name: body[name] for name in names if body.get(name) is not None}
    genai.set_model_parameters(attributes, given, as_json="unmapped")
    genai.set_if(attributes, semconv.OPENAI_REQUEST_SERVICE_TIER, given.get("service_tier"))


def record_identity(attributes: Attributes, response: Any) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
    genai.set_if(attributes, semconv.OPENAI_RESPONSE_SERVICE_TIER, field(response, "service_tier"))
