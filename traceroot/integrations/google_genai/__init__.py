"""The Google GenAI integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class GoogleGenAIIntegration(BaseIntegration):
    name = "google_genai"
    modules = ("google.genai",)
    distribution = "google-genai"
    supported = ""
