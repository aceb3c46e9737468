"""The Amazon Bedrock integration (being built: issue 15)."""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration


class BedrockIntegration(BaseIntegration):
    name = "bedrock"
    modules = ("botocore",)
    distribution = "botocore"
    supported = ""
