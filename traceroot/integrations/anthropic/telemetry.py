"""What traceroot makes of the spans Anthropic 2.x still makes itself while traceroot's span covers
its model calls: the beta tool runner's agent span and its tool spans (and other endpoints').

- Their content follows ``TRACEROOT_CAPTURE_CONTENT``, not each client's ``content_mode`` (off by
  default, and fixed when the client is made): :func:`records_content` replaces the SDK's switch.
- At export, a tool span's result (``anthropic.tool_result.content``, content blocks) is read as
  ``gen_ai.tool.call.result``, its text, as traceroot's own tool spans carry it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from traceroot import semconv
from traceroot.config import current as current_settings
from traceroot.integrations.base import BaseIntegration

SCOPE: Final = "com.anthropic.sdk.python"
_TOOL_RESULT: Final = "anthropic.tool_result.content"


def records_content(integration: BaseIntegration) -> Callable[[Any], Any]:
    """The SDK's ``OpenTelemetryConfig.records_content``, following traceroot's content switch."""

    def replace(original: Any) -> Any:
        def records(config: Any) -> bool:
            return current_settings().capture_content

        return property(records, doc=getattr(original, "__doc__", None))

    return replace


def read(name: str, attributes: dict[str, Any]) -> str:
    """A span of the SDK's, at export: a tool run's result as ``gen_ai.tool.call.result``."""
    result = attributes.get(_TOOL_RESULT)
    if isinstance(result, str) and semconv.GEN_AI_TOOL_CALL_RESULT not in attributes:
        attributes[semconv.GEN_AI_TOOL_CALL_RESULT] = _text(result)
    return name


def _text(blocks_json: str) -> str:
    """The text of the result's blocks when they are all text, else the blocks' JSON as it is."""
    try:
        blocks = json.loads(blocks_json)
    except ValueError:
        return blocks_json
    if isinstance(blocks, list) and all(
        isinstance(block, dict) and block.get("type") == "text" for block in blocks
    ):
        return "".join(str(block.get("text", "")) for block in blocks)
    return blocks_json
