"""The LiteLLM integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class LiteLLMIntegration(BaseIntegration):
    name = "litellm"
    modules = ("litellm",)
    distribution = "litellm"
    supported = ""
