"""The Microsoft Agent Framework integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class AgentFrameworkIntegration(BaseIntegration):
    name = "agent_framework"
    modules = ("agent_framework",)
    distribution = "agent-framework-core"
    supported = ""
