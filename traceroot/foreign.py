"""Other tracers' GenAI spans, typed and read like traceroot's own.

Spans that other instrumentations write in the OpenTelemetry GenAI conventions
(``gen_ai.operation.name``, older ``gen_ai.system``) or in OpenInference's
(``openinference.span.kind``, ``llm.*``, ``input.value``, ``llm.token_count.*``, ``tool.*``) are
read in two steps, each where it is cheapest:

- at start (:func:`kind_at_start`, from the context processor): the traceroot span type, so every
  destination, the app's own exporters included, sees ``traceroot.span.type``, and model calls
  take part in the one-llm-span-per-call protocol (:mod:`traceroot.model_calls`);
- at export, in the export thread and on a copy of the finished span (:mod:`traceroot.reading`,
  through :class:`ReadingExporter`): model, provider, usage, messages, input and output under the
  names the TraceRoot backend and the local store read. The original attributes are kept; a span
  that is not typed ``llm`` loses its usage, so a model call's tokens are counted once. That
  module loads with the first export, in the export thread: start-up never pays for it.

traceroot's own spans pass through untouched, at the cost of one comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan, Span
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot import semconv
from traceroot.spans import SpanKind

_LLM: Final = SpanKind.LLM.value
_TOOL: Final = SpanKind.TOOL.value
_AGENT: Final = SpanKind.AGENT.value
_SPAN: Final = SpanKind.SPAN.value

# gen_ai.operation.name -> traceroot type. Operations not listed (retrieval, and any a later
# version of the conventions adds) are plain spans.
_GENAI_KINDS: Final = {
    semconv.OPERATION_CHAT: _LLM,
    semconv.OPERATION_TEXT_COMPLETION: _LLM,
    semconv.OPERATION_GENERATE_CONTENT: _LLM,
    semconv.OPERATION_EMBEDDINGS: _LLM,
    semconv.OPERATION_EXECUTE_TOOL: _TOOL,
    semconv.OPERATION_INVOKE_AGENT: _AGENT,
    semconv.OPERATION_CREATE_AGENT: _AGENT,
}
# openinference.span.kind -> traceroot type (CHAIN, RETRIEVER, RERANKER, GUARDRAIL, ... are spans).
_OPENINFERENCE_KINDS: Final = {"LLM": _LLM, "EMBEDDING": _LLM, "TOOL": _TOOL, "AGENT": _AGENT}
# Instrumentations of a framework traceroot also traces, and traceroot's integration for it. While
# that integration is on, their model spans repeat traceroot's one for one, and a provider call
# does not nest under them (OpenInference's LangChain spans are never current): typed ``llm``
# they would count every call twice, so they are plain spans, keeping their messages.
FRAMEWORK_SCOPES: Final = {
    "openinference.instrumentation.langchain": "langchain",
    "openinference.instrumentation.llama_index": "llama_index",
    "opentelemetry.instrumentation.langchain": "langchain",
    "opentelemetry.instrumentation.llamaindex": "llama_index",
}
_covered: set[str] = set()

StartReader = Callable[[Span], None]
ExportReader = Callable[[str, dict[str, Any]], str]
# Per instrumentation scope, what the integration that switched that telemetry on knows of it:
# at start, a fix on the live span (stamped and typed already); at export, on the copy's
# attributes (read in place), returning the span's name. One dict lookup per foreign span.
# A span of a scope with an export reader is also exported with each exception recorded once
# (:mod:`traceroot.reading`): frameworks that record a failure on their span themselves, then
# let it out of ``start_as_current_span``, which records it again.
start_readers: dict[str, StartReader] = {}
export_readers: dict[str, ExportReader] = {}


def read_scope(
    scope: str, at_start: StartReader | None = None, at_export: ExportReader | None = None
) -> None:
    """Have the spans of the tracer named ``scope`` read by an integration's own readers (a
    framework's telemetry that names its agents, tools or sessions its own way)."""
    if at_start is not None:
        start_readers[scope] = at_start
    if at_export is not None:
        export_readers[scope] = at_export


# Content (prompts, replies, inputs, outputs, tool arguments and results) under the names other
# tracers write it: OpenInference's and the GenAI conventions' (current and older).
_CONTENT: Final = frozenset(
    {
        semconv.OPENINFERENCE_INPUT_VALUE,
        semconv.OPENINFERENCE_OUTPUT_VALUE,
        semconv.OPENINFERENCE_TOOL_PARAMETERS,
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
        semconv.GEN_AI_TOOL_CALL_RESULT,
        "gen_ai.prompt",
        "gen_ai.completion",
    }
)
_CONTENT_PREFIXES: Final = (
    semconv.OPENINFERENCE_INPUT_MESSAGES_PREFIX,
    semconv.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX,
    "gen_ai.prompt.",
    "gen_ai.completion.",
)


def drop_content(attributes: dict[str, Any], also: Sequence[str] = ()) -> None:
    """Remove the content a framework's telemetry wrote, in either convention, and the
    framework's own content keys ``also``: for an export reader of telemetry traceroot switched
    on, with content capture off (the telemetry may have been set up while it was on, or record
    some content whatever its settings)."""
    for key in [
        key
        for key in attributes
        if key in _CONTENT or key.startswith(_CONTENT_PREFIXES) or key in also
    ]:
        del attributes[key]


def unread_scope(scope: str) -> None:
    start_readers.pop(scope, None)
    export_readers.pop(scope, None)


def covering(integration: str, on: bool) -> None:
    """traceroot's integration of a framework was switched on (or off)."""
    if on:
        _covered.add(integration)
    else:
        _covered.discard(integration)


def covered(integration: str | None) -> bool:
    """Whether traceroot's own integration of this framework is on."""
    return integration in _covered


_MARKERS: Final = frozenset(
    {semconv.OPENINFERENCE_SPAN_KIND, semconv.GEN_AI_OPERATION_NAME, semconv.GEN_AI_SYSTEM}
)


def kind_at_start(attributes: Mapping[str, Any]) -> str | None:
    """The traceroot type of another tracer's span from the attributes it starts with, or
    ``None`` for a span that is not GenAI at all (an HTTP request, a database query)."""
    # A span's attributes are a mapping whose ``get`` and ``in`` raise and catch a KeyError for
    # each absent key (microseconds on every span): iterate the few keys once instead.
    markers = [key for key in attributes if key in _MARKERS]
    if not markers:
        return None
    if semconv.OPENINFERENCE_SPAN_KIND in markers:
        return _OPENINFERENCE_KINDS.get(attributes[semconv.OPENINFERENCE_SPAN_KIND], _SPAN)
    if semconv.GEN_AI_OPERATION_NAME in markers:
        return _GENAI_KINDS.get(attributes[semconv.GEN_AI_OPERATION_NAME], _SPAN)
    return _LLM  # only gen_ai.system: older GenAI conventions (OpenLLMetry), a model call


def read(span: ReadableSpan) -> ReadableSpan:
    """``span`` as traceroot exports it (see :func:`traceroot.reading.read`)."""
    from traceroot import reading

    return reading.read(span)


class ReadingExporter(SpanExporter):
    """Hands ``exporter`` every span as :func:`read` makes it: wrap an exporter of your own
    provider's with it to have other tracers' GenAI spans read as traceroot reads them::

        provider.add_span_processor(BatchSpanProcessor(ReadingExporter(OTLPSpanExporter())))
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from traceroot.reading import read

        return self.exporter.export([read(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)
