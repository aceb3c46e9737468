"""The CrewAI integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class CrewAIIntegration(BaseIntegration):
    name = "crewai"
    modules = ("crewai",)
    distribution = "crewai"
    supported = ""
