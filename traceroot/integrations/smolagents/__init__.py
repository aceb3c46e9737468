"""The Hugging Face smolagents integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class SmolagentsIntegration(BaseIntegration):
    name = "smolagents"
    modules = ("smolagents",)
    distribution = "smolagents"
    supported = ""
