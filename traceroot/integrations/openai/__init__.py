"""The OpenAI integration: every call of the official ``openai`` client becomes one ``llm`` span.

It patches the one choke point every endpoint goes through, the client's ``request`` method (sync
and async), so ``OpenAI``, ``AsyncOpenAI``, the Azure clients, ``with_raw_response``, ``parse``
and the ``stream()`` helpers are all covered, and the span is current while the HTTP request runs.
Only the model endpoints make spans: chat completions, Responses, embeddings and legacy
completions; other requests pass straight through.
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.openai.wrappers"


class OpenAIIntegration(BaseIntegration):
    name = "openai"
    modules = ("openai",)
    distribution = "openai"
    supported = ">=1.92,<4"
    targets = (
        # ``overrides``: OpenInference patches ``request`` on the client classes themselves; where
        # it came first, its patch is wrapped too, so every call still makes traceroot's span.
        PatchTarget(
            "openai._base_client",
            "SyncAPIClient.request",
            f"{_WRAPPERS}:sync_request",
            overrides=True,
        ),
        PatchTarget(
            "openai._base_client",
            "AsyncAPIClient.request",
            f"{_WRAPPERS}:async_request",
            overrides=True,
        ),
    )
