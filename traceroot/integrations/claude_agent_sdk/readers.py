"""How traceroot reads the spans of OpenInference's Claude Agent SDK instrumentor, at export."""

from __future__ import annotations

from typing import Any, Final

from traceroot import semconv
from traceroot.config import current as current_settings

SCOPE: Final = "openinference.instrumentation.claude_agent_sdk"


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """The tool use id as the tool call's id; a tool's arguments, which the instrumentor records
    under a name of its own whatever its content settings, dropped when content capture is off."""
    tool_id = attributes.get(semconv.OPENINFERENCE_TOOL_ID)
    if tool_id is not None and semconv.GEN_AI_TOOL_CALL_ID not in attributes:
        attributes[semconv.GEN_AI_TOOL_CALL_ID] = tool_id
    if not current_settings().capture_content:
        attributes.pop(semconv.OPENINFERENCE_TOOL_PARAMETERS, None)
    return name
