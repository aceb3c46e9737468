"""One ``llm`` span per model call of a Claude Agent SDK run, from the CLI's messages.

The CLI runs the model; the SDK sees each call only as the ``assistant`` messages it produced
(one per content block, all with the call's message id and usage), and the run's end as a
``result`` message with the summed usage. Every message passes through the SDK's parser, where
this module watches, in the caller's context (under the instrumentor's agent span):

- the first assistant message of a call starts its span; the next message of another kind or id
  ends it, with the call's model, output, finish reason and the usage the CLI last reported for it;
- when the CLI reports no usage per call (its first assistant message has none), the run gets one
  model span instead, from its first assistant message to the ``result``, whose total usage it
  carries: an llm span without usage would have its tokens estimated, counting them twice;
- the SDK's ``session_id`` becomes the trace's session when no block set one.

A run left before its ``result`` (a ``break`` out of ``query()``, an exception in the caller) ends
its open model span, marked abandoned, when the run's agent span ends: the instrumentor ends that
one when the generator closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    SystemMessage,
    TextBlock,
    ToolUseBlock,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv, stamping
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration
from traceroot.trace_state import open_traces

_PROVIDER: Final = "anthropic"
_MAX_RUNS: Final = 1_024  # runs abandoned before their result are forgotten past this many
_watching = contained("claude_agent_sdk.parse_message")


class _Run:
    """The model span open in one run (one agent span), and what it has seen."""

    __slots__ = ("call_id", "model", "parts", "per_call", "span", "stop_reason", "usage")

    def __init__(self) -> None:
        self.span: Span | None = None
        self.call_id: str | None = None
        self.model: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.usage: dict[str, Any] | None = None
        self.stop_reason: str | None = None
        # One span per model call (the CLI reports usage per call), or one for the whole run.
        self.per_call: bool | None = None


_runs: dict[tuple[int, int], _Run] = {}


def parse_message(integration: BaseIntegration) -> Callable[..., Any]:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        message = wrapped(*args, **kwargs)
        with _watching:
            _seen(message)
        return message

    return wrapper


def _seen(message: Any) -> None:
    context = otel_context.get_current()
    current = trace.get_current_span(context).get_span_context()
    key = (current.trace_id, current.span_id)
    run = _runs.get(key)
    if run is None:
        if len(_runs) >= _MAX_RUNS:
            _end(_runs.pop(next(iter(_runs))), abandoned=True)
        run = _runs[key] = _Run()
        if current.is_valid:
            _end_run_with(trace.get_current_span(context), key)
    _session(message, context, current.trace_id)
    if isinstance(message, SystemMessage):
        model = message.data.get("model")
        run.model = model if isinstance(model, str) else run.model
    elif isinstance(message, AssistantMessage):
        _assistant(run, message)
        return
    if isinstance(message, ResultMessage):
        _runs.pop(key, None)
        if not run.per_call and message.usage:
            if run.span is None:
                _start(run, run.model, None)
            run.usage = message.usage
    elif not run.per_call:
        return  # the run's one model span goes on to the result
    _end(run)


def _assistant(run: _Run, message: AssistantMessage) -> None:
    if run.per_call is None:
        run.per_call = bool(message.usage)
    if run.span is None or (run.per_call and message.message_id != run.call_id):
        _end(run)
        _start(run, message.model or run.model, message.message_id)
    for block in message.content:
        if isinstance(block, TextBlock):
            run.parts.append(genai.text_part(block.text))
        elif isinstance(block, ToolUseBlock):
            run.parts.append(genai.tool_call_part(block.id, block.name, block.input))
    if message.usage and run.per_call:
        run.usage = message.usage  # the latest report for this call
    run.call_id = message.message_id or run.call_id
    run.stop_reason = message.stop_reason or run.stop_reason


def _start(run: _Run, model: str | None, call_id: str | None) -> None:
    run.span = genai.start_llm_span(semconv.OPERATION_CHAT, model, provider=_PROVIDER)
    run.call_id, run.model = call_id, model or run.model
    run.parts, run.usage, run.stop_reason = [], None, None


def _end_run_with(agent: Span, key: tuple[int, int]) -> None:
    """Have the run's agent span, when it ends, end the run's model span first if still open."""
    end = agent.end
    if getattr(end, "_traceroot_ends_run", False):
        return  # hooked for an earlier run under the same span: it finds this one by its key

    def ending(*args: Any, **kwargs: Any) -> None:
        run = _runs.pop(key, None)
        if run is not None:
            with _watching:
                _end(run, abandoned=True)
        end(*args, **kwargs)

    ending._traceroot_ends_run = True  # type: ignore[attr-defined]
    try:
        agent.end = ending  # type: ignore[method-assign]
    except AttributeError:  # a span class with slots: its run ends when evicted, at the latest
        pass


def _end(run: _Run, *, abandoned: bool = False) -> None:
    span, run.span = run.span, None
    if span is None:
        return
    attributes: genai.Attributes = {}
    if abandoned:
        attributes[semconv.ABANDONED] = True
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, run.model)
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, run.call_id)
    if run.stop_reason:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [run.stop_reason]
    if run.usage:
        usage = run.usage
        cached = [
            usage.get(key) for key in ("cache_read_input_tokens", "cache_creation_input_tokens")
        ]
        # Anthropic's input_tokens leaves out the cached part; GenAI's counts all input.
        input_tokens = usage.get("input_tokens")
        if isinstance(input_tokens, int):
            input_tokens += sum(count for count in cached if isinstance(count, int))
        genai.set_usage(attributes, usage, input_tokens=input_tokens)
    if run.parts:
        genai.set_content(
            attributes,
            semconv.GEN_AI_OUTPUT_MESSAGES,
            [genai.message("assistant", run.parts)],
        )
    genai.set_final(span, attributes)
    span.end()


def _session(message: Any, context: otel_context.Context, trace_id: int) -> None:
    """The SDK's session as the trace's, unless a block or the trace has one already."""
    if not trace_id or open_traces.has_override(trace_id, semconv.SESSION_ID):
        return
    session = getattr(message, "session_id", None)
    if session is None and isinstance(message, SystemMessage):
        session = message.data.get("session_id")
    if not isinstance(session, str) or not session:
        return
    if stamping.ids(context)[0] is None:
        open_traces.update(trace_id, {semconv.SESSION_ID: session})
