"""The Groq integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class GroqIntegration(BaseIntegration):
    name = "groq"
    modules = ("groq",)
    distribution = "groq"
    supported = ""
