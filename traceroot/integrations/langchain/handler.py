"""The callback handler: LangChain runs in, OpenTelemetry spans out.

A plain ``BaseCallbackHandler`` rather than LangChain's ``BaseTracer``: no ``Run`` object is built
per event, which is most of what tracing costs in LangChain. Runs are kept by id only while open.
"""

from __future__ import annotations

import asyncio
import contextvars
import operator
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final
from uuid import UUID

# From the defining module: the hook that imports this can run while the
# langchain_core.callbacks package is itself still importing.
from langchain_core.callbacks.base import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv, spans, stamping
from traceroot.config import current as current_settings
from traceroot.context import with_attributes
from traceroot.guard import contained
from traceroot.integrations.langchain import messages as lc_messages
from traceroot.spans import SpanKind
from traceroot.trace_state import open_traces

_SESSION_KEYS: Final = ("session_id", "thread_id", "conversation_id")
_USER_KEYS: Final = ("user_id",)
_ID_KEYS: Final = frozenset(_SESSION_KEYS + _USER_KEYS)
_ID_ATTRIBUTES: Final = {"session_id": semconv.SESSION_ID, "user_id": semconv.USER_ID}
_HIDDEN_TAG: Final = "langsmith:hidden"
# Exceptions LangChain and LangGraph use for control flow: a run that raised one did not fail.
_CONTROL_FLOW: Final = frozenset(
    {
        "GraphBubbleUp",
        "GraphInterrupt",
        "NodeInterrupt",
        "ParentCommand",
        "StopIteration",
        "StopAsyncIteration",
        "GeneratorExit",
        "CancelledError",
    }
)
_AGENT_NAMES: Final = frozenset({"AgentExecutor", "LangGraph"})

_starting = contained("langchain.start")
_ending = contained("langchain.end")


# Before Python 3.11 asyncio cannot run a task in a given context, so LangChain and LangGraph
# await a runnable's coroutine in the caller's own context, and their `_set_config_context` (where
# the run's span is made current, see hooks.py) runs in a copy that is then dropped: code inside an
# async run (an @observe function in a graph node, a provider's client in a tool) would start a
# new trace. There, a child run started in an event loop has its span made current in the task it
# started in, until it ends in that task. Root runs are left alone: LangChain ends them in another
# task than the caller's, where the caller's context cannot be set back.
_ATTACH_ASYNC_RUNS: Final = sys.version_info < (3, 11)


class _Run:
    __slots__ = (
        "context",
        "first_token",
        "handed",
        "model",
        "parent",
        "span",
        "started",
        "token",
    )

    def __init__(
        self,
        span: Span,
        context: otel_context.Context,
        parent: _Run | None,
        *,
        model: bool = False,
    ) -> None:
        self.span = span
        self.context = context
        self.parent = parent
        self.model = model
        self.token: object = None
        self.started = time.monotonic() if model else 0.0  # for the time to the first token
        self.first_token: float | None = None
        # The last value handed between this run and its children, with its JSON: a sequence
        # passes its input to its first step and each step's output to the next, unchanged and
        # with no user code in between, so each such value is serialised once, not twice.
        self.handed: tuple[object, Any] | None = None


def _content(run: _Run | None, value: Any, attributes: dict[str, Any], key: str) -> None:
    """Set ``key`` to ``value``'s JSON, reusing the text if ``run`` just handed this object on."""
    handed = run.handed if run is not None else None
    if handed is not None and handed[0] is value:
        attributes[key] = handed[1]
        return
    written = lc_messages.plain_json(value)
    if written is None or not spans.prewritten_into(attributes, key, written):
        # A chain's string input or output as itself, as ``@observe`` records one.
        spans.content_into(attributes, key, lc_messages.readable(value), as_text=True)


def _reuse_prompt(parent: _Run | None, prompt: Sequence[Any], attributes: dict[str, Any]) -> bool:
    """A model fed by a prompt template gets the very messages the template just output (whose
    JSON, in the same shape, the template's span already has)."""
    handed = parent.handed if parent is not None else None
    messages = getattr(handed[0], "messages", None) if handed is not None else None
    if (
        handed is None
        or not isinstance(messages, list)
        or len(messages) != len(prompt)
        or not all(map(operator.is_, messages, prompt))
    ):
        return False
    attributes[semconv.GEN_AI_INPUT_MESSAGES] = handed[1]
    return True


def _hand_message(run: _Run | None, message: Any, text: str) -> None:
    """Hand on a model's one output message, whose JSON is its output list's without brackets
    (compact JSON: exact), unless a redact hook or truncation may have reshaped the list."""
    if (
        run is not None
        and text.startswith("[{")
        and text.endswith("}]")
        and current_settings().redact is None
    ):
        run.handed = (message, text[1:-1])


def _hand(run: _Run | None, value: Any, attributes: dict[str, Any], key: str) -> None:
    text = attributes.get(key)
    if run is not None and text is not None and semconv.TRUNCATED not in attributes:
        run.handed = (value, text)


class TracerootHandler(BaseCallbackHandler):
    """Turns LangChain callback events into spans. One instance serves the whole process."""

    run_inline = True  # called in the runnable's own thread and task, never in an executor
    raise_error = False
    # Read by LangChain before every event: plain class attributes rather than the base class's
    # properties. Retries and custom events make no spans.
    ignore_llm = ignore_chain = ignore_agent = ignore_retriever = ignore_chat_model = False
    ignore_retry = ignore_custom_event = True

    def __init__(self) -> None:
        self.enabled = False
        # Open runs by the int of their id (a UUID hashes in Python code, its int in C). None: a
        # hidden run, whose children go up a level.
        self._runs: dict[int, _Run | None] = {}

    # -- Lookups ---------------------------------------------------------------------------------
    def enter(self, config: Any) -> otel_context.Context | None:
        """The context in which the code of the run ``config``'s callbacks belong to executes (its
        span current). Ids in ``configurable`` (not passed to callbacks) are adopted here."""
        callbacks = config.get("callbacks") if isinstance(config, dict) else None
        run_id = getattr(callbacks, "parent_run_id", None)
        run = self._runs.get(run_id.int) if run_id is not None and self.enabled else None
        if run is None:
            return None
        configurable = config.get("configurable")
        if configurable:
            ids = _metadata_ids(run.context, configurable)  # LangGraph's: nearly always none
            if ids:
                trace_id = run.span.get_span_context().trace_id
                if not open_traces.has_override(trace_id, semconv.SESSION_ID):
                    stamped = {_ID_ATTRIBUTES[k]: str(v) for k, v in ids.items()}
                    open_traces.update(trace_id, stamped)
        return run.context

    def _parent(self, parent_run_id: UUID | None) -> _Run | None:
        return self._runs.get(parent_run_id.int) if parent_run_id is not None else None

    def _open(
        self,
        run_id: UUID,
        parent_run: _Run | None,
        tags: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        name: str,
        kind: SpanKind,
        attributes: dict[str, Any],
        *,
        model: bool = False,
    ) -> _Run | None:
        if tags and _HIDDEN_TAG in tags:
            self._runs[run_id.int] = parent_run
            return None
        parent = parent_run.context if parent_run is not None else otel_context.get_current()
        ids = _metadata_ids(parent, metadata)
        if ids:
            parent = with_attributes(parent, **ids)
        span = spans.start(name, kind, parent=parent, attributes=attributes)
        if ids:
            # A session named in the run's config belongs to its whole trace, as if set by
            # update_current_trace: the root and every open ancestor get it too.
            stamped = {_ID_ATTRIBUTES[key]: str(value) for key, value in ids.items()}
            open_traces.update(span.get_span_context().trace_id, stamped)
        run = _Run(span, trace.set_span_in_context(span, parent), parent_run, model=model)
        self._runs[run_id.int] = run
        # asyncio._get_running_loop: None outside a running loop, where get_running_loop raises
        if (
            _ATTACH_ASYNC_RUNS
            and parent_run is not None
            and not model
            and asyncio._get_running_loop() is not None
        ):
            run.token = otel_context.attach(run.context)
        return run

    def _close(self, run_id: UUID) -> _Run | None:
        run = self._runs.pop(run_id.int, None)
        if run is not None and run.token is not None and not run.model:
            _leave(run)
        return run

    # -- Chains, graphs and agents -----------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        # Chain events are the most frequent of all: guarded inline rather than with a with-block.
        try:
            parent = self._parent(parent_run_id)
            name = kwargs.get("name") or _serialized_name(serialized) or "chain"
            attributes: dict[str, Any] = {}
            kind = SpanKind.SPAN
            has_parent = parent_run_id is not None and parent_run_id.int in self._runs
            if _is_agent(name, has_parent, metadata):
                kind = SpanKind.AGENT
                attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_INVOKE_AGENT
            if metadata and "langgraph_node" in metadata:
                genai.set_if(attributes, semconv.LANGGRAPH_NODE, metadata["langgraph_node"])
                genai.set_if(attributes, semconv.LANGGRAPH_STEP, metadata.get("langgraph_step"))
            _content(parent, inputs, attributes, semconv.SPAN_INPUT)
            run = self._open(run_id, parent, tags, metadata, name, kind, attributes)
            _hand(run, inputs, attributes, semconv.SPAN_INPUT)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _starting.failed(error)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._close(run_id)
        if run is None:
            return
        try:
            attributes: dict[str, Any] = {}
            _content(run, outputs, attributes, semconv.SPAN_OUTPUT)
            _hand(run.parent, outputs, attributes, semconv.SPAN_OUTPUT)
            run.span.set_attributes(attributes)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _ending.failed(error)
        run.span.end()

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # -- Models ------------------------------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        with _starting:
            attributes = _model_request(metadata, kwargs.get("invocation_params"))
            attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_CHAT
            prompt = messages[0] if len(messages) == 1 else [m for batch in messages for m in batch]
            parent = self._parent(parent_run_id)
            if not _reuse_prompt(parent, prompt, attributes):
                key = semconv.GEN_AI_INPUT_MESSAGES
                written = lc_messages.plain_json(prompt)
                if written is None or not spans.prewritten_into(attributes, key, written):
                    genai.set_content(attributes, key, lc_messages.input_messages(prompt))
            self._open_model(run_id, parent, tags, metadata, serialized, kwargs, attributes)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        with _starting:
            attributes = _model_request(metadata, kwargs.get("invocation_params"))
            attributes[semconv.GEN_AI_OPERATION_NAME] = semconv.OPERATION_TEXT_COMPLETION
            inputs = [genai.message("user", [genai.text_part(prompt)]) for prompt in prompts]
            genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, inputs)
            parent = self._parent(parent_run_id)
            self._open_model(run_id, parent, tags, metadata, serialized, kwargs, attributes)

    def _open_model(
        self,
        run_id: UUID,
        parent: _Run | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        serialized: dict[str, Any] | None,
        kwargs: Mapping[str, Any],
        attributes: dict[str, Any],
    ) -> None:
        name = kwargs.get("name") or _serialized_name(serialized) or "llm"
        run = self._open(run_id, parent, tags, metadata, name, SpanKind.LLM, attributes, model=True)
        if run is None:
            return
        # The model's own code (the provider's HTTP call) runs outside any runnable context of
        # LangChain's, so make the span current here, until the run ends.
        run.token = otel_context.attach(run.context)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id.int)
        if run is not None and run.first_token is None:
            run.first_token = time.monotonic() - run.started

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._close(run_id)
        if run is None:
            return
        _leave(run)
        attributes: dict[str, Any] = {}
        if run.first_token is not None:
            attributes[semconv.LLM_TIME_TO_FIRST_CHUNK] = run.first_token
        try:
            read, message = lc_messages.model_response(response)
            attributes.update(read)
            text = attributes.get(semconv.GEN_AI_OUTPUT_MESSAGES)
            if message is not None and text is not None:
                _hand_message(run.parent, message, text)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _ending.failed(error)
        # If the provider's own span ran under this one, that is the llm span of this call: this
        # one keeps its messages, not the usage.
        genai.set_final(run.span, attributes)
        run.span.end()

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id.int)
        if run is not None:
            _leave(run)
            genai.set_final(run.span, {})
        self._fail(run_id, error)

    # -- Tools and retrievers ----------------------------------------------------------------------
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        with _starting:
            name = kwargs.get("name") or _serialized_name(serialized) or "tool"
            attributes: dict[str, Any] = {
                semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_EXECUTE_TOOL,
                semconv.GEN_AI_TOOL_NAME: name,
            }
            genai.set_if(attributes, semconv.GEN_AI_TOOL_CALL_ID, kwargs.get("tool_call_id"))
            genai.set_if(
                attributes, semconv.GEN_AI_TOOL_DESCRIPTION, (serialized or {}).get("description")
            )
            arguments = inputs if inputs is not None else input_str
            key = semconv.GEN_AI_TOOL_CALL_ARGUMENTS
            written = lc_messages.plain_value_json(arguments)
            genai.set_written_content(attributes, key, written, lambda: arguments)
            parent = self._parent(parent_run_id)
            self._open(run_id, parent, tags, metadata, name, SpanKind.TOOL, attributes)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._close(run_id)
        if run is None:
            return
        with _ending:
            attributes: dict[str, Any] = {}
            call_id = getattr(output, "tool_call_id", None)
            # a sampled-out trace's span is a NonRecordingSpan, with no attributes to read
            recorded = getattr(run.span, "attributes", None) or {}
            if call_id and semconv.GEN_AI_TOOL_CALL_ID not in recorded:
                attributes[semconv.GEN_AI_TOOL_CALL_ID] = str(call_id)
            result = getattr(output, "content", output)
            key = semconv.GEN_AI_TOOL_CALL_RESULT
            written = lc_messages.plain_value_json(result)
            genai.set_written_content(attributes, key, written, lambda: result)
            run.span.set_attributes(attributes)
        run.span.end()

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        with _starting:
            name = kwargs.get("name") or _serialized_name(serialized) or "retriever"
            attributes: dict[str, Any] = {
                semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_RETRIEVAL
            }
            genai.set_content(attributes, semconv.SPAN_INPUT, query)
            parent = self._parent(parent_run_id)
            self._open(run_id, parent, tags, metadata, name, SpanKind.SPAN, attributes)

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        run = self._close(run_id)
        if run is None:
            return
        with _ending:
            attributes: dict[str, Any] = {semconv.RETRIEVAL_DOCUMENT_COUNT: len(documents)}
            genai.set_content(attributes, semconv.SPAN_OUTPUT, lc_messages.documents(documents))
            run.span.set_attributes(attributes)
        run.span.end()

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # -- Failure -----------------------------------------------------------------------------------
    def _fail(self, run_id: UUID, error: BaseException) -> None:
        run = self._close(run_id)
        if run is None:
            return
        with _ending:
            if _is_control_flow(error):
                run.span.set_attribute(semconv.CONTROL_FLOW, type(error).__name__)
            else:
                spans.record_error(run.span, error)
        run.span.end()


def _leave(run: _Run) -> None:
    """Detach the span made current at its run's start, if this is still the context it was
    attached in. LangChain may end a run in another task or thread than the one it started in,
    whose context, a copy, holds the span but cannot detach it: left as it is."""
    token, run.token = run.token, None
    if token is None or otel_context.get_current() is not run.context:
        return
    if isinstance(token, contextvars.Token):
        try:
            token.var.reset(token)
        except ValueError:  # made in another Context: the copy goes when its task or thread does
            pass
    else:  # a runtime context of another kind than OpenTelemetry's default
        otel_context.detach(token)  # type: ignore[arg-type]


def _metadata_ids(base: otel_context.Context, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A run's ``session_id``/``thread_id``/``conversation_id`` and ``user_id`` (from its metadata,
    where LangChain also copies ``configurable`` values), for those the context does not set."""
    if not metadata or _ID_KEYS.isdisjoint(metadata):  # most runs: no ids at all, one C loop
        return {}
    session_now, user_now = stamping.ids(base)
    ids = {}
    if session_now is None and (session := _first(metadata, _SESSION_KEYS)) is not None:
        ids["session_id"] = session
    if user_now is None and (user := _first(metadata, _USER_KEYS)) is not None:
        ids["user_id"] = user
    return ids


def _first(metadata: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = metadata.get(key)
        if value is not None and value != "":
            return value
    return None


def _serialized_name(serialized: Mapping[str, Any] | None) -> str | None:
    if not serialized:
        return None
    name = serialized.get("name")
    if isinstance(name, str):
        return name
    path = serialized.get("id")
    return str(path[-1]) if isinstance(path, list) and path else None


def _is_agent(name: str, has_parent: bool, metadata: Mapping[str, Any] | None) -> bool:
    if name in _AGENT_NAMES:
        return True
    # The top run of a LangGraph graph (create_agent, prebuilt agents, custom StateGraphs).
    is_graph = bool(metadata) and metadata.get("ls_integration") == "langgraph"  # type: ignore[union-attr]
    return is_graph and not has_parent and "langgraph_node" not in (metadata or {})


def _is_control_flow(error: BaseException) -> bool:
    return any(klass.__name__ in _CONTROL_FLOW for klass in type(error).__mro__)


def _model_request(metadata: Mapping[str, Any] | None, invocation: Any) -> dict[str, Any]:
    """Model, provider and parameters from LangChain's standard ``ls_*`` metadata and the
    model's invocation parameters."""
    metadata = metadata or {}
    invocation = invocation if isinstance(invocation, dict) else {}
    attributes: dict[str, Any] = {}
    genai.set_if(
        attributes, semconv.GEN_AI_PROVIDER_NAME, metadata.get("ls_provider") or "langchain"
    )
    model = metadata.get("ls_model_name") or invocation.get("model") or invocation.get("model_name")
    genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, model)
    parameters = {
        "temperature": metadata.get("ls_temperature", invocation.get("temperature")),
        "max_tokens": metadata.get("ls_max_tokens", invocation.get("max_tokens")),
        "stop": metadata.get("ls_stop", invocation.get("stop")),
        "top_p": invocation.get("top_p"),
        "seed": invocation.get("seed"),
    }
    genai.set_model_parameters(attributes, parameters)
    genai.set_if(attributes, semconv.GEN_AI_REQUEST_STREAM, invocation.get("stream"))
    tools = invocation.get("tools")
    if isinstance(tools, list) and tools:
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, tools)
    return attributes
