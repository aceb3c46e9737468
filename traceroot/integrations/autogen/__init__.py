"""The AutoGen AgentChat integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class AutoGenIntegration(BaseIntegration):
    name = "autogen"
    modules = ("autogen_agentchat",)
    distribution = "autogen-agentchat"
    supported = ""
