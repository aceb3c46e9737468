"""The Google ADK integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class GoogleADKIntegration(BaseIntegration):
    name = "google_adk"
    modules = ("google.adk",)
    distribution = "google-adk"
    supported = ""
