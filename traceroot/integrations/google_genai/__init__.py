"""The Google GenAI integration: every model request of the ``google-genai`` client becomes one
``llm`` span, and every Python function it runs for automatic function calling a ``tool`` span.

Where the telemetry comes from, and why (the integration contract's order):

1. The SDK has no tracing of its own to switch on.
2. Its instrumentors (OpenInference's ``openinference-instrumentation-google-genai``,
   OpenTelemetry contrib's ``opentelemetry-instrumentation-google-genai``) wrap the public
   methods (``Models.generate_content``...). One such call can be several model requests:
   automatic function calling runs the model's function calls and asks again, automatic
   continuation follows continuation tokens. Their one span then carries the last request's
   usage only, so cost is under-counted, and the function runs are not seen. Contrib's content
   capture is also switched by its own environment variables, not by traceroot's setting.
3. So traceroot patches one choke point itself: the API client's request methods
   (``BaseApiClient.request``, ``request_streamed`` and their async twins), which every model
   request passes once, from ``client.models``, ``client.aio.models`` and chat sessions alike.
   The request is read as sent (the REST JSON body), the response as received, so one reader
   covers every way of calling; ``invoke_function_from_dict_args`` (and its async twin), the
   helper automatic function calling runs each function through, gives the tool spans.

Model requests are ``generateContent`` and ``streamGenerateContent`` (operation
``generate_content``) and ``batchEmbedContents`` / ``embedContent`` (``embeddings``); other
requests (``countTokens``, files, caches...) pass straight through. The provider is
``gcp.gemini`` for the Gemini Developer API and ``gcp.vertex_ai`` for Vertex AI.
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget

_WRAPPERS = "traceroot.integrations.google_genai.wrappers"
_TOOLS = "traceroot.integrations.google_genai.tools"
_CLIENT = "google.genai._api_client"


class GoogleGenAIIntegration(BaseIntegration):
    name = "google_genai"
    modules = ("google.genai",)
    distribution = "google-genai"
    supported = ">=1.20,<4"
    targets = (
        PatchTarget(_CLIENT, "BaseApiClient.request", f"{_WRAPPERS}:request"),
        PatchTarget(
            _CLIENT,
            "BaseApiClient.request_streamed",
            f"{_WRAPPERS}:request_streamed",
        ),
        PatchTarget(_CLIENT, "BaseApiClient.async_request", f"{_WRAPPERS}:async_request"),
        PatchTarget(
            _CLIENT,
            "BaseApiClient.async_request_streamed",
            f"{_WRAPPERS}:async_request_streamed",
        ),
        PatchTarget(
            "google.genai._extra_utils",
            "invoke_function_from_dict_args",
            f"{_TOOLS}:invoke",
            optional=True,
        ),
        PatchTarget(
            "google.genai._extra_utils",
            "invoke_function_from_dict_args_async",
            f"{_TOOLS}:ainvoke",
            optional=True,
        ),
    )
