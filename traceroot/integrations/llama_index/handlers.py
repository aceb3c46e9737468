"""LlamaIndex dispatcher spans and events in, OpenTelemetry spans out."""

from __future__ import annotations

import inspect
import threading
import time
import weakref
from typing import Any, Final

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv, spans
from traceroot.config import current as current_settings
from traceroot.guard import contained
from traceroot.integrations.llama_index import convert, values
from traceroot.model_calls import model_calls
from traceroot.spans import SpanKind

_starting = contained("llama_index.start")
_ending = contained("llama_index.end")
_handling = contained("llama_index.event")
_capturing = contained("llama_index.content")

_CHAT_METHODS: Final = frozenset({"chat", "achat", "stream_chat", "astream_chat"})
_COMPLETE_METHODS: Final = frozenset(
    {"complete", "acomplete", "stream_complete", "astream_complete"}
)
_EMBED_METHODS: Final = frozenset(
    {
        "get_text_embedding",
        "aget_text_embedding",
        "get_text_embedding_batch",
        "aget_text_embedding_batch",
        "get_query_embedding",
        "aget_query_embedding",
        "get_agg_embedding_from_queries",
        "aget_agg_embedding_from_queries",
    }
)
_MODEL_METHODS: Final = _CHAT_METHODS | _COMPLETE_METHODS
# Calls whose result is the answer a user asked for: recorded as its text alone.
_ANSWER_METHODS: Final = frozenset({"query", "aquery", "chat", "achat", "run"})
_FOLDED_SUFFIXES: Final = ("Splitter", "NodeParser", "Program")
_MISSING: Final = object()
_PLAIN_RESULTS: Final = frozenset({str, list, tuple, dict, type(None)})
_CHUNK_EVENTS: Final = frozenset({"LLMChatInProgressEvent", "LLMCompletionInProgressEvent"})
_USAGE_KEYS: Final = (semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.GEN_AI_USAGE_OUTPUT_TOKENS)


class _Record:
    __slots__ = (
        "context",
        "first_chunk",
        "instance",
        "method",
        "model",
        "parent",
        "span",
        "started",
        "started_ns",
        "streaming",
        "token",
        "usage",
    )

    def __init__(
        self, span: Span, context: otel_context.Context, instance: Any, method: str, model: bool
    ) -> None:
        self.span = span
        self.context = context
        self.instance = instance
        self.method = method
        self.model = model
        self.token: object = None
        self.started = time.monotonic() if model else 0.0
        self.first_chunk: float | None = None  # seconds from the start to a stream's first chunk
        self.started_ns = time.monotonic_ns()
        self.streaming: int | None = None  # the thread that got the stream this call returned
        self.parent: _Record | None = None
        # A model call's token counts wait for the end: they belong to this span only if no
        # provider span ran under it.
        self.usage: dict[str, Any] = {}


class Tracker:
    """Open LlamaIndex spans by id. A folded span maps to the record of its nearest kept ancestor
    (or ``None``), so its children and events land there."""

    def __init__(self) -> None:
        self.enabled = False
        self._records: dict[str, _Record] = {}
        self._folded: dict[str, _Record | None] = {}  # folded span id -> the record it joins

    def _find(self, id_: str | None) -> _Record | None:
        if not id_:
            return None
        record = self._records.get(id_)
        return record if record is not None else self._folded.get(id_)

    def enter(self, id_: str, bound_args: Any, instance: Any, parent_id: str | None) -> None:
        if not self.enabled:
            return
        parent = self._find(parent_id) if parent_id else self._reading_stream()
        owner, _, method = id_.rsplit("-", 5)[0].rpartition(".")
        plan = _plan(owner, method, instance, parent)
        if plan is None:
            self._folded[id_] = parent
            return
        name, kind, attributes = plan
        model = kind is SpanKind.LLM
        if current_settings().capture_content:
            with _capturing:  # on its own: a value that cannot be shown must not cost the span
                llm = instance if convert.role(instance) is convert.Role.LLM else None
                inputs = values.arguments(bound_args, llm)
                spans.content_into(attributes, semconv.SPAN_INPUT, inputs, as_text=True)
        context = parent.context if parent is not None else otel_context.get_current()
        span = spans.start(name, kind, parent=context, attributes=attributes)
        record = _Record(span, trace.set_span_in_context(span, context), instance, method, model)
        record.parent = parent
        if not _returns_future(instance, method):
            # Current while LlamaIndex runs the method, so provider calls nest under it.
            record.token = otel_context.attach(record.context)
        self._records[id_] = record

    def exit(self, id_: str, result: Any) -> None:
        record = self._pop(id_)
        if record is None:
            return
        stream = _stream_of(result)
        if stream is not None:
            # The call returned a stream: the span lasts until it ends (an end event for model
            # streams) or is dropped.
            self._records[id_] = record
            record.streaming = threading.get_ident()
            if record.model:
                model_calls.watch_stream(record.span)
            weakref.finalize(stream, self._end_stream, id_)
            return
        with _ending:
            attributes: dict[str, Any] = {}
            if record.model:
                _settle_model(record, attributes)  # the reply is in gen_ai.output.messages
            elif current_settings().capture_content:
                with _capturing:
                    output = values.result(result, answer=record.method in _ANSWER_METHODS)
                    spans.content_into(attributes, semconv.SPAN_OUTPUT, output, as_text=True)
            record.span.set_attributes(attributes)
        record.span.end()

    def drop(self, id_: str, error: BaseException | None) -> None:
        record = self._pop(id_)
        if record is None:
            return
        with _ending:
            if record.model:
                attributes: dict[str, Any] = {}
                _settle_model(record, attributes)
                record.span.set_attributes(attributes)
            if error is not None:
                spans.record_error(record.span, error)
        record.span.end()

    def _pop(self, id_: str) -> _Record | None:
        if self._folded.pop(id_, _MISSING) is not _MISSING:
            return None  # a folded span: the record it joined is not its to end
        record = self._records.pop(id_, None)
        if record is None:
            return None
        token, record.token = record.token, None
        if token is not None and otel_context.get_current() is record.context:
            otel_context.detach(token)  # type: ignore[arg-type]
        return record if record.span.is_recording() else None

    def _reading_stream(self) -> _Record | None:
        """The record whose returned stream is being read, for a LlamaIndex span that starts with
        no LlamaIndex parent: a streamed response calls its model only as it is read.

        The innermost such stream of this thread, and only if the caller is in no other trace.
        """
        current = trace.get_current_span().get_span_context()
        thread = threading.get_ident()
        found: _Record | None = None
        for record in list(self._records.values()):
            if record.streaming != thread:
                continue
            if current.is_valid and record.span.get_span_context().trace_id != current.trace_id:
                continue
            if found is None or record.started_ns > found.started_ns:
                found = record
        return found

    def _end_stream(self, id_: str) -> None:
        record = self._records.pop(id_, None)
        if record is not None and record.span.is_recording():
            if record.model:
                attributes: dict[str, Any] = {semconv.LLM_STREAM_PARTIAL: True}
                _settle_model(record, attributes)
                record.span.set_attributes(attributes)
            record.span.end()

    def event(self, event: Any) -> None:
        kind = type(event).__name__
        reader = convert.EVENT_READERS.get(kind)
        if reader is None and kind not in _CHUNK_EVENTS:
            return  # most events (a query's start, a synthesis's end) add nothing to a span
        if not self.enabled:
            return
        record = self._find(getattr(event, "span_id", None))
        if record is None or not record.span.is_recording():
            return
        if reader is None:  # a streamed chunk: only the first one is recorded, by its time
            if record.first_chunk is None:
                record.first_chunk = time.monotonic() - record.started
                record.span.set_attribute(semconv.LLM_TIME_TO_FIRST_CHUNK, record.first_chunk)
            return
        attributes: dict[str, Any] = {}
        reader(event, attributes)
        if record.model:
            for key in _USAGE_KEYS:
                if key in attributes:
                    record.usage[key] = attributes.pop(key)
        if attributes:
            record.span.set_attributes(attributes)
        if kind in ("LLMChatEndEvent", "LLMCompletionEndEvent"):
            self._finish_stream(record)

    def _finish_stream(self, record: _Record) -> None:
        """A model stream's end event: end its span if it outlived its call, and the spans of the
        calls that returned streams wrapping it (a query's streaming response is read out)."""
        if _is_running(record):
            return
        ended: _Record | None = record
        while ended is not None and ended.streaming is not None:
            for id_, open_record in list(self._records.items()):
                if open_record is ended:
                    self._records.pop(id_, None)
                    attributes: dict[str, Any] = {}
                    if ended.model:
                        _settle_model(ended, attributes)
                    ended.span.set_attributes(attributes)
                    ended.span.end()
                    break
            ended = ended.parent

    def clear(self) -> None:
        self._records.clear()
        self._folded.clear()


def _is_running(record: _Record) -> bool:
    return record.token is not None


def _settle_model(record: _Record, attributes: dict[str, Any]) -> None:
    """The usage the events reported, unless a provider span ran under this one: that one is
    then the call's llm span (:mod:`traceroot.model_calls`)."""
    attributes.update(record.usage)
    model_calls.settle(record.span, attributes)


def _plan(
    owner: str, method: str, instance: Any, parent: _Record | None
) -> tuple[str, SpanKind, dict[str, Any]] | None:
    """What span a LlamaIndex span becomes: ``(name, kind, attributes)``, or ``None`` to fold it."""
    if owner.endswith(_FOLDED_SUFFIXES) or method.startswith("_"):
        return None  # splitters per chunk, templating programs, private helpers
    same_instance = parent is not None and instance is not None and parent.instance is instance
    if same_instance and (method.startswith("_") or method == parent.method or parent.model):  # type: ignore[union-attr]
        return None  # the private half of a public method, a recursion, a model's inner call
    name = f"{owner}.{method}" if owner else method
    role = convert.role(instance)
    attributes: dict[str, Any] = {}
    if role is convert.Role.LLM and method in _MODEL_METHODS:
        operation = (
            semconv.OPERATION_CHAT if method in _CHAT_METHODS else semconv.OPERATION_TEXT_COMPLETION
        )
        attributes[semconv.GEN_AI_OPERATION_NAME] = operation
        attributes[semconv.GEN_AI_PROVIDER_NAME] = convert.provider(instance)
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, convert.model_name(instance))
        genai.set_if(
            attributes, semconv.GEN_AI_REQUEST_STREAM, method.startswith(("stream", "astream"))
        )
        return name, SpanKind.LLM, attributes
    if role is convert.Role.EMBEDDING and method in _EMBED_METHODS:
        attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_EMBEDDINGS
        attributes[semconv.GEN_AI_PROVIDER_NAME] = convert.provider(instance)
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, convert.model_name(instance))
        return name, SpanKind.LLM, attributes
    if role is convert.Role.RETRIEVER and method in ("retrieve", "aretrieve"):
        attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_RETRIEVAL
        return name, SpanKind.SPAN, attributes
    if role is convert.Role.TOOL:
        tool_name = convert.tool_name(instance)
        attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_EXECUTE_TOOL
        genai.set_if(attributes, semconv.GEN_AI_TOOL_NAME, tool_name)
        return tool_name or name, SpanKind.TOOL, attributes
    if method in ("run", "arun", "chat", "achat") and ("Agent" in owner or "Workflow" in owner):
        attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_INVOKE_AGENT
        return name, SpanKind.AGENT, attributes
    return name, SpanKind.SPAN, attributes


def _returns_future(instance: Any, method: str) -> bool:
    """``Workflow.run`` returns a future and ends later, elsewhere: a context attached at its
    start could not be detached where it was attached."""
    return method == "run" and hasattr(instance, "_get_steps")


def _stream_of(result: Any) -> Any:
    if type(result) in _PLAIN_RESULTS:
        return None  # a text, a list of nodes or vectors: no stream inside
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        return result
    stream = getattr(result, "response_gen", None) if result is not None else None
    if inspect.isgenerator(stream) or inspect.isasyncgen(stream):
        return stream
    return None


# -- The handlers LlamaIndex calls ----------------------------------------------------------------
class _SpanHandler(BaseSpanHandler[BaseSpan]):
    """Receives the dispatcher's span calls directly: no span models, no open-span bookkeeping."""

    @classmethod
    def class_name(cls) -> str:
        return "TracerootSpanHandler"

    def span_enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with _starting:
            tracker.enter(id_, bound_args, instance, parent_id)

    def span_exit(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> None:
        with _ending:
            tracker.exit(id_, result)

    def span_drop(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        with _ending:
            tracker.drop(id_, err)

    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None


class _EventHandler(BaseEventHandler):
    @classmethod
    def class_name(cls) -> str:
        return "TracerootEventHandler"

    def handle(self, event: Any, **kwargs: Any) -> None:
        with _handling:
            tracker.event(event)


tracker = Tracker()
_span_handler = _SpanHandler()
_event_handler = _EventHandler()
_attach_lock = threading.Lock()


def attach() -> None:
    """Add the handlers to LlamaIndex's root dispatcher, once."""
    with _attach_lock:
        dispatcher = get_dispatcher()
        if _span_handler not in dispatcher.span_handlers:
            dispatcher.add_span_handler(_span_handler)
        if _event_handler not in dispatcher.event_handlers:
            dispatcher.add_event_handler(_event_handler)
        tracker.enabled = True


def detach() -> None:
    with _attach_lock:
        tracker.enabled = False
        dispatcher = get_dispatcher()
        dispatcher.span_handlers[:] = [
            h for h in dispatcher.span_handlers if h is not _span_handler
        ]
        dispatcher.event_handlers[:] = [
            h for h in dispatcher.event_handlers if h is not _event_handler
        ]
        tracker.clear()
