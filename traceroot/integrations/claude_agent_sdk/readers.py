"""How traceroot reads the spans of OpenInference's Claude Agent SDK instrumentor, at export."""

from __future__ import annotations

from typing import Any, Final

from traceroot import semconv
from traceroot.config import current as current_settings

SCOPE: Final = "openinference.instrumentation.claude_agent_sdk"
_CONTENT: Final = (
    semconv.OPENINFERENCE_TOOL_PARAMETERS,
    semconv.OPENINFERENCE_INPUT_VALUE,
    semconv.OPENINFERENCE_OUTPUT_VALUE,
)
_MESSAGES: Final = (
    semconv.OPENINFERENCE_INPUT_MESSAGES_PREFIX,
    semconv.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX,
)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """The tool use id as the tool call's id; with content capture off, what the instrumentor
    records whatever its content settings (a tool's arguments and result) dropped."""
    tool_id = attributes.get(semconv.OPENINFERENCE_TOOL_ID)
    if tool_id is not None and semconv.GEN_AI_TOOL_CALL_ID not in attributes:
        attributes[semconv.GEN_AI_TOOL_CALL_ID] = tool_id
    if not current_settings().capture_content:
        for key in _CONTENT:
            attributes.pop(key, None)
        for key in [key for key in attributes if key.startswith(_MESSAGES)]:
            del attributes[key]
    return name
