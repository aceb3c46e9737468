"""The Claude Agent SDK integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class ClaudeAgentSDKIntegration(BaseIntegration):
    name = "claude_agent_sdk"
    modules = ("claude_agent_sdk",)
    distribution = "claude-agent-sdk"
    supported = ""
