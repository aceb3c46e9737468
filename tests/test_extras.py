"""Each agent-framework and provider extra installs what its integration supports: the framework's bounds in
the extra are the integration's ``supported`` range, and an integration that takes its spans
from another package names an extra that installs it."""

from __future__ import annotations

from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from traceroot.integrations.registry import discover

FRAMEWORKS = (
    "openai_agents",
    "pydantic_ai",
    "crewai",
    "dspy",
    "agno",
    "autogen",
    "google_adk",
    "agent_framework",
    "claude_agent_sdk",
    "smolagents",
    "anthropic",
    "bedrock",
    "litellm",
    "google_genai",
    "groq",
    "mistral",
)


def _extras() -> dict[str, list[Requirement]]:
    found: dict[str, list[Requirement]] = {}
    for text in metadata.requires("traceroot") or []:
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        if "extra ==" in marker:
            extra = marker.split("extra ==")[1].strip().strip("\"'")
            found.setdefault(extra, []).append(requirement)
    return found


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_the_extra_matches_what_the_integration_supports(name: str) -> None:
    plugin = discover()[name].load()()
    extra = getattr(plugin, "extra", "") or name.replace("_", "-")
    requirements = _extras().get(extra)
    assert requirements, f"no extra {extra!r} for the {name} integration"
    by_name = {requirement.name: requirement for requirement in requirements}
    telemetry = getattr(plugin, "telemetry_distribution", "")
    if telemetry:
        assert telemetry in by_name, f"traceroot[{extra}] does not install {telemetry}"
    framework = by_name.get(plugin.distribution)
    if framework is not None:
        assert framework.specifier == SpecifierSet(plugin.supported), name
    else:
        assert telemetry, f"traceroot[{extra}] installs neither {plugin.distribution} nor telemetry"
