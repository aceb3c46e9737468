"""traceroot's reader of the OpenInference smolagents instrumentor's spans at export
(:func:`traceroot.foreign.read_scope`): agent spans take the agent's name, tool spans the tool's
name and the GenAI tool attributes, and what holds a task's text goes when content is off."""

from __future__ import annotations

from typing import Any, Final

from traceroot import foreign, semconv
from traceroot.config import current as current_settings

_RUN_SUFFIX: Final = ".run"
# The run's task and extra arguments, which the instrumentor's content settings do not hide (the
# OpenInference content those settings hide goes too: they were read at instrument()).
_CONTENT: Final = ("smolagents.task", "smolagents.additional_args")


def at_export(name: str, attributes: dict[str, Any]) -> str:
    content = current_settings().capture_content
    if not content:
        foreign.drop_content(attributes, _CONTENT)
    kind = attributes.get(semconv.OPENINFERENCE_SPAN_KIND)
    if kind == "AGENT":
        return name.removesuffix(_RUN_SUFFIX) or name
    if kind == "TOOL":
        tool = attributes.get(semconv.OPENINFERENCE_TOOL_NAME)
        if content:
            _copy(attributes, semconv.OPENINFERENCE_INPUT_VALUE, semconv.GEN_AI_TOOL_CALL_ARGUMENTS)
            _copy(attributes, semconv.OPENINFERENCE_OUTPUT_VALUE, semconv.GEN_AI_TOOL_CALL_RESULT)
        if isinstance(tool, str) and tool:
            return tool
    return name


def _copy(attributes: dict[str, Any], source: str, target: str) -> None:
    value = attributes.get(source)
    if value is not None and target not in attributes:
        attributes[target] = value
