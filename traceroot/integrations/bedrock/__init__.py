"""The Amazon Bedrock integration: every model call of a boto3 ``bedrock-runtime`` client becomes
one ``llm`` span.

Covered: ``converse``, ``converse_stream``, ``invoke_model`` and
``invoke_model_with_response_stream``. Request bodies of ``invoke_model`` are read in the
Anthropic Messages format (``anthropic_version``), Amazon Nova's ``messages-v1`` format (the
Converse shape), and as plain text for every other model; usage comes from the body or, failing
that, the ``x-amzn-bedrock-*-token-count`` headers and a stream's invocation metrics.

Where the spans come from, and why traceroot patches botocore itself:

- boto3 and botocore have no telemetry of their own.
- OpenInference's ``openinference-instrumentation-bedrock`` (0.1.x) wraps the methods of each
  client created after it is instrumented (clients made earlier are missed), records
  OpenInference attributes only, leaves a stream that was broken off unmarked, and takes its
  whole OpenInference stack into the process for one provider.
- OpenTelemetry contrib's ``opentelemetry-instrumentation-botocore`` makes a span for EVERY AWS
  call (each S3 ``get_object``, each SQS message), puts prompts and replies into log events rather
  than the span (and only with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``), and ends a
  stream's span only when it is read to the end, closed or fails: one dropped after an early break
  stays open.

So traceroot wraps the one choke point every call of every botocore client passes through,
``BaseClient._make_api_call``, and acts only for the four model operations of the
``bedrock-runtime`` service; any other call (S3, DynamoDB, the ``bedrock`` control plane) pays one
attribute lookup and a dict miss. Clients made before ``instrument()`` are covered too. Importing
boto3 stays cheap: the wrapper module is tiny, and what records a model call is imported at the
first Bedrock call. aiobotocore (async) clients are not covered.
"""

from __future__ import annotations

from traceroot.integrations.base import BaseIntegration, PatchTarget


class BedrockIntegration(BaseIntegration):
    name = "bedrock"
    modules = ("botocore",)
    distribution = "botocore"
    # Converse and ConverseStream came with botocore 1.34.116.
    supported = ">=1.34.116,<2"
    targets = (
        PatchTarget(
            "botocore.client",
            "BaseClient._make_api_call",
            "traceroot.integrations.bedrock.wrappers:make_api_call",
        ),
    )
