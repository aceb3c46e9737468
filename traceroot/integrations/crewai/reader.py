"""How OpenInference's CrewAI spans read, at export, under traceroot's names.

OpenInference names its spans after the methods it wraps; this reader names them after what
they are:

- a task run by an agent (``Weather reporter.Report._execute_core``) and a standalone agent
  run (``Weather reporter.kickoff``) are agent spans named after the agent's role, which
  OpenInference keeps in ``graph.node.id``;
- a tool run (``get_weather.run``) is named after the tool, with its arguments and result
  under the GenAI tool-call names (content: not recorded when content capture is off);
- a crew kickoff without a name of its own (``Crew_<uuid>.kickoff``) is ``Crew.kickoff``; the
  crew's inputs, agents (goals, backstories) and tasks (descriptions), which OpenInference
  records whatever its content settings, are dropped when content capture is off.

Runs in the export thread, on the copy of the span's attributes; imports nothing of CrewAI.
"""

from __future__ import annotations

import json
from typing import Any, Final

from traceroot import foreign, genai, semconv
from traceroot.config import current as current_settings

SCOPE: Final = "openinference.instrumentation.crewai"
_GRAPH_NODE_ID: Final = "graph.node.id"  # OpenInference: the agent's role
_CREW_ID: Final = "crew_id"  # OpenInference's crew kickoff: the Crew object's id
# OpenInference's crew kickoff: the inputs, and the agents' and tasks' own text.
_CREW_CONTENT: Final = ("crew_inputs", "crew_agents", "crew_tasks")


def read(name: str, attributes: dict[str, Any]) -> str:
    """The span's name; fills in the tool-call attributes of a tool span."""
    if not current_settings().capture_content:
        # OpenInference's content settings were read at instrument(); the crew's own keys are
        # written whatever they say.
        foreign.drop_content(attributes, _CREW_CONTENT)
    kind = attributes.get(semconv.OPENINFERENCE_SPAN_KIND)
    if kind == "AGENT":
        role = attributes.get(_GRAPH_NODE_ID)
        return role if isinstance(role, str) and role else name
    if kind == "TOOL":
        _read_tool(attributes)
        tool = attributes.get(semconv.OPENINFERENCE_TOOL_NAME)
        return tool if isinstance(tool, str) and tool else name
    if (
        kind == "CHAIN"
        and _CREW_ID in attributes
        and name == f"Crew_{attributes[_CREW_ID]}.kickoff"
    ):
        return "Crew.kickoff"
    return name


def _read_tool(attributes: dict[str, Any]) -> None:
    # OpenInference writes the tool's bound arguments as JSON and its result as text.
    arguments = attributes.get(semconv.OPENINFERENCE_INPUT_VALUE)
    if arguments is not None and semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in attributes:
        genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, _parsed(arguments))
    result = attributes.get(semconv.OPENINFERENCE_OUTPUT_VALUE)
    if result is not None and semconv.GEN_AI_TOOL_CALL_RESULT not in attributes:
        genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_RESULT, result)


def _parsed(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
