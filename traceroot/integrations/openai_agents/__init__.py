"""The OpenAI Agents SDK integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class OpenAIAgentsIntegration(BaseIntegration):
    name = "openai_agents"
    modules = ("agents",)
    distribution = "openai-agents"
    supported = ""
