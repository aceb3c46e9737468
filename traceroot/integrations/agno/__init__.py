"""The Agno integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class AgnoIntegration(BaseIntegration):
    name = "agno"
    modules = ("agno",)
    distribution = "agno"
    supported = ""
