"""The Mistral integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class MistralIntegration(BaseIntegration):
    name = "mistral"
    modules = ("mistralai",)
    distribution = "mistralai"
    supported = ""
