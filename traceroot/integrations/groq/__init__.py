"""The Groq integration: every chat completion of the official ``groq`` client is one ``llm`` span.

Where the spans come from, and why: the ``groq`` SDK has no telemetry of its own. OpenInference's
Groq instrumentor wraps ``Completions.create`` only, records messages in OpenInference's flat
attributes and does not follow streams (the span ends when ``create`` returns, before the first
chunk, without output or usage). So traceroot patches the one choke point every Groq API call
goes through, the client's ``request`` method (sync and async), as it does for OpenAI: Groq's
SDK is generated the same way and speaks the Chat Completions wire format, read by
:mod:`traceroot.integrations.chat_completions`. ``Groq``, ``AsyncGroq``, ``with_raw_response``
and ``with_streaming_response`` are covered (a stream they return is followed to its end; an
unread body is recorded when the caller parses it), and the span is current while the HTTP
request runs. Other requests (audio, models, batches) pass straight through.
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.groq.wrappers"


class GroqIntegration(BaseIntegration):
    name = "groq"
    modules = ("groq",)
    distribution = "groq"
    supported = ">=0.9,<2"
    targets = (
        # ``overrides``: an instrumentation that patched a client subclass's ``request`` first
        # has its patch wrapped too, so every call still makes traceroot's span.
        PatchTarget(
            "groq._base_client",
            "SyncAPIClient.request",
            f"{_WRAPPERS}:sync_request",
            overrides=True,
        ),
        PatchTarget(
            "groq._base_client",
            "AsyncAPIClient.request",
            f"{_WRAPPERS}:async_request",
            overrides=True,
        ),
    )
