"""``@observe`` and ``start_span``: a span around a function call or a block of code.

The decorated function's span is current while any of its code runs, including every step of a
generator or async generator, so spans made inside nest under it. An exception marks the span
failed once and reaches the caller as the same object; return values pass through untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span

from traceroot import observed_kinds, semconv, spans, stamping
from traceroot.call_inputs import without_user_reprs
from traceroot.config import current as current_settings
from traceroot.context import (
    normalize_id,
    normalize_metadata,
    normalize_tags,
    with_attributes,
)
from traceroot.generators import ResumeHooks, async_generator_function, generator_function
from traceroot.guard import contained
from traceroot.logs import warn_once
from traceroot.model_calls import model_calls
from traceroot.serialize import json_object
from traceroot.spans import ObservedSpan, SpanKind

_F = TypeVar("_F", bound=Callable[..., Any])

MAX_GENERATOR_ITEMS: Final = 1_000
_NOT_CAPTURED: Final = object()

_starting = contained("observe.start")
_capturing = contained("observe.capture_input")
_ending = contained("observe.end")


class _Observation:
    """What one ``@observe`` or ``start_span`` asks for, resolved once."""

    __slots__ = (
        "capture_input",
        "capture_output",
        "described",
        "kind",
        "metadata",
        "name",
        "session_id",
        "start_attributes",
        "tags",
        "user_id",
    )

    def __init__(
        self,
        name: str,
        kind: object,
        metadata: object,
        tags: object,
        session_id: object,
        user_id: object,
        capture_input: bool,
        capture_output: bool,
    ) -> None:
        self.name = _span_name(name)
        self.kind = spans.parse_kind(kind)
        self.metadata = normalize_metadata(metadata)
        self.tags = normalize_tags(tags)
        self.session_id = normalize_id(session_id, "session_id")
        self.user_id = normalize_id(user_id, "user_id")
        self.capture_input = capture_input
        self.capture_output = capture_output
        # An agent or tool span in GenAI and OpenInference terms too (traceroot.observed_kinds).
        self.described = observed_kinds.described(self.kind)
        self.start_attributes = observed_kinds.start_attributes(self.kind, self.name) or None

    def begin(self, inputs: Callable[[], Any] | None) -> tuple[Span, otel_context.Context] | None:
        """Start the span under the current context; ``None`` if traceroot itself failed."""
        started: tuple[Span, otel_context.Context] | None = None
        with _starting:
            parent = otel_context.get_current()
            if self.session_id is not None or self.user_id is not None:
                # Given to observe, the ids reach this span and everything under it.
                parent = with_attributes(parent, session_id=self.session_id, user_id=self.user_id)
            span = spans.start(
                self.name, self.kind, parent=parent, attributes=self.start_attributes
            )
            started = span, trace.set_span_in_context(span, parent)
        if started is None:
            return None
        # A failure to capture the input must not cost the span: it is guarded on its own.
        with _capturing:
            if self.metadata or self.tags:
                self._stamp_own_values(span, parent)
            if inputs is not None and self.capture_input and current_settings().capture_content:
                spans.set_json(span, semconv.SPAN_INPUT, inputs(), as_text=True)
        return started

    def _stamp_own_values(self, span: Span, parent: otel_context.Context) -> None:
        # The span started with the context's tags and metadata (every source of them, see
        # traceroot.stamping); these join them on this span only.
        inherited = stamping.span_attributes(parent)
        if self.tags:
            tags = (*inherited.get(semconv.SPAN_TAGS, ()), *self.tags)
            span.set_attribute(semconv.SPAN_TAGS, list(dict.fromkeys(tags)))
        if self.metadata:
            metadata = {**json_object(inherited.get(semconv.SPAN_METADATA)), **self.metadata}
            spans.set_json(span, semconv.SPAN_METADATA, metadata, content=False)

    def end(
        self, span: Span, result: Any = _NOT_CAPTURED, error: BaseException | None = None
    ) -> None:
        with _ending:
            # What the span ends with, set in one call (each call takes the span's lock).
            attributes: dict[str, Any] = {}
            if isinstance(error, GeneratorExit):
                # A coroutine or generator closed before it finished (a cancelled stream, a
                # loop shutting down): the caller's choice, not a failure of the function.
                pass
            elif error is not None:
                spans.record_error(span, error)
            elif result is not _NOT_CAPTURED and result is not None and self.capture_output:
                # A string as itself: the output as the user wrote it, not a JSON string.
                spans.content_into(attributes, semconv.SPAN_OUTPUT, result, as_text=True)
            if self.kind is SpanKind.LLM:
                model_calls.settle(span, attributes)
            elif self.described:
                observed_kinds.end_attributes(self.kind, span, self.name, attributes)
            if attributes:
                spans.set_attributes(span, attributes)
        span.end()


def _span_name(name: object) -> str:
    if isinstance(name, str):
        return name
    warn_once(
        f"observe:name:{type(name).__name__}",
        "traceroot: a span name must be a str, got %s; using str() of it",
        type(name).__name__,
    )
    try:
        return str(name)
    except Exception:  # noqa: BLE001 - a __str__ that raises: the type name serves
        return type(name).__name__


class _Arguments:
    """Turns a call's ``args``/``kwargs`` into ``{parameter: value}``, skipping ``self``/``cls``."""

    __slots__ = ("defaults", "names", "skip_first", "varargs")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.names: tuple[str, ...] = ()
        self.skip_first = False
        self.varargs = "args"
        self.defaults: dict[str, Any] = {}
        try:
            parameters = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return
        positional = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self.names = tuple(p.name for p in positional)
        self.skip_first = bool(self.names) and self.names[0] in ("self", "cls")
        self.varargs = next((p.name for p in parameters if p.kind is p.VAR_POSITIONAL), "args")
        self.defaults = {
            p.name: p.default
            for p in parameters
            if p.default is not p.empty and p.name not in ("self", "cls")
        }

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = self.names
        values: dict[str, Any] = {}
        extra: list[Any] = []
        for index, value in enumerate(args):
            if index < len(names):
                if index or not self.skip_first:
                    values[names[index]] = value
            else:
                extra.append(value)
        if extra:
            values[self.varargs] = extra
        for key, value in kwargs.items():
            if key not in ("self", "cls"):
                values[key] = value
        for key, value in self.defaults.items():
            values.setdefault(key, value)
        return without_user_reprs(values)


class _ObservedRun(ResumeHooks):
    """One run of an observed generator: its span starts at the first step and ends once."""

    __slots__ = ("context", "count", "inputs", "items", "observation", "span")

    def __init__(self, observation: _Observation, inputs: Callable[[], Any]) -> None:
        self.observation = observation
        self.inputs = inputs
        self.span: Span | None = None
        self.context: otel_context.Context | None = None
        self.items: list[Any] = []
        self.count = 0

    def resume(self) -> object:
        if self.context is None:
            begun = self.observation.begin(self.inputs) if current_settings().enabled else None
            if begun is None:
                self.context = otel_context.get_current()
            else:
                self.span, self.context = begun
        return otel_context.attach(self.context)

    def pause(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def item(self, value: object) -> None:
        self.count += 1
        if len(self.items) < MAX_GENERATOR_ITEMS and self.observation.capture_output:
            self.items.append(value)

    def finish(self, error: BaseException | None) -> None:
        if self.span is None:
            return
        if error is not None and not isinstance(error, GeneratorExit):
            self.observation.end(self.span, error=error)
        else:
            self.observation.end(self.span, result=self._output())

    def _output(self) -> Any:
        if not self.items:
            return _NOT_CAPTURED
        if all(isinstance(item, str) for item in self.items):
            output: Any = "".join(self.items)
        else:
            output = self.items
        if self.count > len(self.items):
            return {"items": output, "total_items": self.count}
        return output


@overload
def observe(fn: _F, /) -> _F: ...


@overload
def observe(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    type: SpanKind | str = SpanKind.SPAN,
    metadata: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    capture_input: bool = True,
    capture_output: bool = True,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Callable[[_F], _F]: ...


def observe(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    type: SpanKind | str = SpanKind.SPAN,  # noqa: A002 - the TraceRoot SDK's keyword
    metadata: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    capture_input: bool = True,
    capture_output: bool = True,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Any:
    """Trace every call of a function as a span: sync, async, generator or async generator.

    Arguments become the span's input (without ``self``/``cls``), the return value (or a
    generator's items) its output. ``session_id``/``user_id`` reach this span and all below it::

        @observe(type="agent")
        def answer(question: str) -> str:
            return llm(question)

        @observe                      # bare form: span named after the function
        async def fetch(url: str) -> bytes: ...
    """

    def decorate(target: Any) -> Any:
        member = _decorate_member(target, decorate)
        if member is not None:
            return member
        observation = _Observation(
            name or getattr(target, "__name__", None) or "observed",
            type,
            metadata,
            tags,
            session_id,
            user_id,
            capture_input,
            capture_output,
        )
        return _wrap(target, observation, _Arguments(target))

    return decorate(fn) if fn is not None else decorate


def _decorate_member(target: Any, decorate: Callable[[Any], Any]) -> Any:
    """``@observe`` written above ``@classmethod``, ``@staticmethod`` or ``@property``: trace
    the function inside and wrap it the same way again, so the member still behaves as one."""
    if isinstance(target, classmethod):
        return classmethod(decorate(target.__func__))
    if isinstance(target, staticmethod):
        return staticmethod(decorate(target.__func__))
    if isinstance(target, property):
        getter = decorate(target.fget) if target.fget is not None else None
        return target.getter(getter) if getter is not None else target
    return None


def _wrap(
    fn: Callable[..., Any], observation: _Observation, arguments: _Arguments
) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(fn):
        return async_generator_function(
            fn, lambda args, kwargs: _ObservedRun(observation, lambda: arguments.bind(args, kwargs))
        )
    if inspect.isgeneratorfunction(fn):
        return generator_function(
            fn, lambda args, kwargs: _ObservedRun(observation, lambda: arguments.bind(args, kwargs))
        )
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            begun = (
                observation.begin(lambda: arguments.bind(args, kwargs))
                if current_settings().enabled
                else None
            )
            if begun is None:
                return await fn(*args, **kwargs)
            span, ctx = begun
            token = otel_context.attach(ctx)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as error:
                otel_context.detach(token)
                observation.end(span, error=error)
                raise
            otel_context.detach(token)
            observation.end(span, result)
            return result

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = (
            observation.begin(lambda: arguments.bind(args, kwargs))
            if current_settings().enabled
            else None
        )
        if begun is None:
            return fn(*args, **kwargs)
        span, ctx = begun
        token = otel_context.attach(ctx)
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            observation.end(span, error=error)
            raise
        otel_context.detach(token)
        observation.end(span, result)
        return result

    return wrapper


class start_span:  # noqa: N801 - used like a function: ``with start_span(...) as span``
    """A span around a block of code that is not a function of its own.

    The span is current inside the block; an exception leaving the block marks it failed::

        with traceroot.start_span("retrieve", type="tool", input={"query": q}) as span:
            docs = index.search(q)
            span.set_output(docs)
    """

    __slots__ = ("_input", "_observation", "_started", "_token")

    def __init__(
        self,
        name: str,
        *,
        type: SpanKind | str = SpanKind.SPAN,  # noqa: A002 - same keyword as observe
        input: Any = _NOT_CAPTURED,  # noqa: A002 - same keyword as update_current_span
        metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        capture_input: bool = True,
        capture_output: bool = True,
    ) -> None:
        self._observation = _Observation(
            name, type, metadata, tags, session_id, user_id, capture_input, capture_output
        )
        self._input = input
        self._started: list[Span] = []
        self._token: list[object] = []

    def __enter__(self) -> ObservedSpan:
        observation = self._observation
        begun = None
        if current_settings().enabled:
            value = self._input
            begun = observation.begin(None if value is _NOT_CAPTURED else lambda: value)
        if begun is None:
            return ObservedSpan(INVALID_SPAN)
        span, ctx = begun
        self._started.append(span)
        self._token.append(otel_context.attach(ctx))
        return ObservedSpan(
            span,
            capture_input=observation.capture_input,
            capture_output=observation.capture_output,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._started:
            return
        otel_context.detach(self._token.pop())  # type: ignore[arg-type]
        span = self._started.pop()
        if error is not None and not isinstance(error, GeneratorExit):
            self._observation.end(span, error=error)
        else:
            self._observation.end(span)

    async def __aenter__(self) -> ObservedSpan:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, error, tb)
