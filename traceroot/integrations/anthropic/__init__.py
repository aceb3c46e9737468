"""The Anthropic integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class AnthropicIntegration(BaseIntegration):
    name = "anthropic"
    modules = ("anthropic",)
    distribution = "anthropic"
    supported = ""
