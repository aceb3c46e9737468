"""The integration names traceroot knows: every name the TraceRoot SDK accepts, plus its own.

Each value is the entry-point name (group ``traceroot.integrations``) of the plugin that fulfils
it, so a third-party package can provide any of them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from traceroot.logs import warn_once


class Integration(str, enum.Enum):
    """An integration to turn on: ``initialize(integrations=[Integration.OPENAI])``."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    LANGCHAIN = "langchain"
    GOOGLE_GENAI = "google_genai"
    CREWAI = "crewai"
    OPENAI_AGENTS = "openai_agents"
    CLAUDE_AGENT_SDK = "claude_agent_sdk"
    LLAMA_INDEX = "llama_index"
    AUTOGEN = "autogen"
    AGNO = "agno"
    GROQ = "groq"
    DSPY = "dspy"
    GOOGLE_ADK = "google_adk"
    MISTRAL = "mistral"
    PYDANTIC_AI = "pydantic_ai"
    BEDROCK = "bedrock"
    AGENT_FRAMEWORK = "agent_framework"
    # traceroot's own, beyond the TraceRoot SDK's names
    LITELLM = "litellm"
    SMOLAGENTS = "smolagents"
    THREADING = "threading"

    def __str__(self) -> str:
        return self.value


def normalize_name(name: object) -> str:
    """The entry-point key for an enum member or a user-typed name (``"llama-index"`` works)."""
    raw = name.value if isinstance(name, Integration) else str(name)
    return raw.strip().lower().replace("-", "_").replace(".", "_")


def requested_names(values: Iterable[object] | None, known: Iterable[str]) -> list[str] | None:
    """Normalise an ``integrations=[...]`` argument; warn once about names nothing provides."""
    if values is None:
        return None
    if isinstance(values, (str, Integration)):
        values = [values]
    known_names = set(known) | {member.value for member in Integration}
    names = list(dict.fromkeys(normalize_name(value) for value in values))
    for name in names:
        if name not in known_names:
            warn_once(
                f"integration:unknown:{name}",
                "traceroot: unknown integration %r; known integrations: %s",
                name,
                ", ".join(sorted(known_names)),
            )
    return names
