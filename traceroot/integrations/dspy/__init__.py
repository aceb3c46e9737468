"""The DSPy integration (being built: issue 14)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class DSPyIntegration(BaseIntegration):
    name = "dspy"
    modules = ("dspy",)
    distribution = "dspy"
    supported = ""
