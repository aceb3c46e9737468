"""The Pydantic AI integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class PydanticAIIntegration(BaseIntegration):
    name = "pydantic_ai"
    modules = ("pydantic_ai",)
    distribution = "pydantic-ai-slim"
    supported = ""
