"""The Chat Completions wire format, read into span attributes: for every provider that speaks it.

OpenAI defined the shape (``messages`` with ``role``, ``content``, ``tool_calls`` and
``tool_call_id``; ``choices`` with a ``message`` or a streamed ``delta`` and a
``finish_reason``; ``usage`` with ``prompt_tokens`` and ``completion_tokens``); Groq, Mistral
and many others answer in it. Provider integrations translate their calls with these functions
and add only what is theirs (a parameter name, a service tier).

Payloads come as the SDKs' objects or as plain dicts alike (:func:`traceroot.genai.field`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar, Final

from traceroot import genai, semconv, written_messages
from traceroot.genai import Attributes, field
from traceroot.openai_messages import (
    chat_messages,
    chat_messages_json,
    chat_output_json,
    chat_output_message,
)


def record_request(
    attributes: Attributes,
    body: Mapping[str, Any],
    parameters: Collection[str],
    *,
    renamed: Mapping[str, str] | None = None,
) -> None:
    """A chat request: its parameters (``renamed`` maps a provider's name for one to the
    standard one, e.g. Mistral's ``random_seed`` to ``seed``), input messages and tools."""
    given = {}
    # The body's few keys against the provider's list, not the list against the body: a request
    # names three or four of the sixteen.
    for name, value in body.items():
        if value is not None and name in parameters:
            given[renamed.get(name, name) if renamed else name] = value
    if given:
        genai.set_model_parameters(attributes, given, as_json="unmapped")
    choice_count = body.get("n")
    if choice_count is not None:
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_CHOICE_COUNT, choice_count)
    response_format = body.get("response_format")
    if response_format is not None:
        record_output_type(attributes, field(response_format, "type"))
    messages = body.get("messages")
    genai.set_written_content(
        attributes,
        semconv.GEN_AI_INPUT_MESSAGES,
        chat_messages_json(messages),
        lambda: chat_messages(messages),
    )
    tools = body.get("tools")
    if tools:
        record_tool_definitions(attributes, tools)


def record_response(
    attributes: Attributes,
    response: Any,
    *,
    output_message: Callable[[Any, object], dict[str, Any]] = chat_output_message,
) -> None:
    """A chat completion: identity, finish reasons, usage and output messages (each read by
    ``output_message``, for a provider whose messages carry more, such as reasoning)."""
    get = genai.reader(response)
    record_identity(attributes, response, get)
    choices = get(response, "choices", None) or []
    record_finish_reasons(attributes, [field(choice, "finish_reason") for choice in choices])
    record_usage(attributes, get(response, "usage", None))
    written = _text_replies_json(choices) if output_message is chat_output_message else None
    genai.set_written_content(
        attributes,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        written,
        lambda: [
            output_message(field(choice, "message"), field(choice, "finish_reason"))
            for choice in choices
        ],
    )


def _text_replies_json(choices: Any) -> str | None:
    """The JSON of the output messages of a reply whose choices are text only, else ``None``."""
    written = []
    for choice in choices:
        get = genai.reader(choice)
        message = get(choice, "message", None)
        read = genai.reader(message)
        if read(message, "tool_calls", None) or read(message, "refusal", None):
            return None
        one = chat_output_json(
            read(message, "role", None) or "assistant",
            read(message, "content", None),
            get(choice, "finish_reason", None),
        )
        if one is None:
            return None
        written.append(one)
    return written_messages.array(written)


def record_identity(attributes: Attributes, response: Any, get: genai.Reader = genai.field) -> None:
    """The response's id and model (``get``: its :func:`traceroot.genai.reader`, if known)."""
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, get(response, "id", None))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, get(response, "model", None))


def record_output_type(attributes: Attributes, format_type: object) -> None:
    if format_type in ("json_schema", "json_object"):
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "json"
    elif format_type == "text":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "text"


def record_finish_reasons(attributes: Attributes, reasons: Iterable[object]) -> None:
    known = [str(reason) for reason in reasons if reason is not None]
    if known:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = known


def record_tool_definitions(attributes: Attributes, tools: object) -> None:
    """Tool schemas the model was offered (kept when content capture is off: they are code)."""
    if isinstance(tools, (list, tuple)) and tools:
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools))


def record_usage(attributes: Attributes, usage: Any) -> None:
    """Token counts, with cache writes where a gateway reports them (LiteLLM passes on
    Anthropic's ``cache_creation_input_tokens``)."""
    if usage is None:
        return
    get = genai.reader(usage)
    prompt_details = get(usage, "prompt_tokens_details", None)
    completion_details = get(usage, "completion_tokens_details", None)
    genai.set_usage(
        attributes,
        input_tokens=get(usage, "prompt_tokens", None),
        output_tokens=get(usage, "completion_tokens", None),
        cache_read_tokens=field(prompt_details, "cached_tokens") if prompt_details else None,
        cache_creation_tokens=genai.rare_field(usage, "cache_creation_input_tokens")
        or (field(prompt_details, "cache_creation_tokens") if prompt_details else None),
        reasoning_tokens=(
            field(completion_details, "reasoning_tokens") if completion_details else None
        ),
    )


# -- Streams --------------------------------------------------------------------------------------
class _Choice:
    __slots__ = ("calls", "finish_reason", "reasoning", "refusal", "role", "text")

    def __init__(self) -> None:
        self.role: object = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.refusal: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: object = None


def _add_tool_calls(choice: _Choice, calls: Any) -> None:
    for position, call in enumerate(calls):
        call_id = field(call, "id")
        index = field(call, "index")
        entry = choice.calls.get(index) if isinstance(index, int) else None
        if not isinstance(index, int) or (call_id and entry and entry["id"] not in (None, call_id)):
            index = _by_id(choice, call_id, position)
            entry = choice.calls.get(index)
        if entry is None:
            entry = choice.calls[index] = {"id": None, "name": None, "arguments": []}
        function = field(call, "function")
        entry["id"] = call_id or entry["id"]
        entry["name"] = field(function, "name") or entry["name"]
        arguments = field(function, "arguments")
        if arguments:
            entry["arguments"].append(arguments)


def _by_id(choice: _Choice, call_id: object, position: int) -> int:
    """Where a call goes that its index cannot place: a provider sending whole calls, each in a
    chunk of its own, may leave the index out or give every one 0 (LiteLLM's default). It goes
    to the call with its id, else after the rest; without an id either, by its place in the
    chunk."""
    if not call_id:
        return position
    for index, entry in choice.calls.items():
        if entry["id"] == call_id:
            return index
    return max(choice.calls, default=-1) + 1


def _arguments(pieces: list[Any]) -> Any:
    if len(pieces) == 1:
        return pieces[0]  # whole, maybe already structured (Mistral sends a dict)
    if all(isinstance(piece, dict) for piece in pieces):
        return {key: value for piece in pieces for key, value in piece.items()}
    return "".join(piece if isinstance(piece, str) else str(piece) for piece in pieces)


# What a streamed choice's delta is read for.
_DELTA: Final = ("content", "role", "refusal", "tool_calls")


class ChatStream:
    """Rebuilds the choices of a streamed chat completion from its chunks.

    A provider that streams reasoning names its delta field in ``reasoning_field`` (it arrives
    as the message's ``reasoning_content``) and reads that in :meth:`output_message`.
    """

    reasoning_field: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.first: Any = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: Any) -> None:
        # Runs once per chunk: plain attribute reads on the SDK's chunk objects (getattr with a
        # default only for a chunk that lacks one), nothing allocated unless the chunk carries
        # something new.
        if self.first is None:
            self.first = chunk
        try:
            usage, choices = chunk.usage, chunk.choices
        except AttributeError:
            usage, choices = getattr(chunk, "usage", None), getattr(chunk, "choices", None)
        if usage is not None:
            self.usage = usage
        for choice_chunk in choices or ():
            try:
                delta = choice_chunk.delta
                content, role, refusal, calls = (
                    delta.content,
                    delta.role,
                    delta.refusal,
                    delta.tool_calls,
                )
                index, reason = choice_chunk.index, choice_chunk.finish_reason
            except AttributeError:  # read before anything is kept: no half-added chunk
                delta = getattr(choice_chunk, "delta", None)
                content, role, refusal, calls = (getattr(delta, name, None) for name in _DELTA)
                index = getattr(choice_chunk, "index", 0)
                reason = getattr(choice_chunk, "finish_reason", None)
            index = index or 0
            choice = self.choices.get(index)
            if choice is None:
                choice = self.choices[index] = _Choice()
            if content:
                if isinstance(content, str):
                    choice.text.append(content)
                else:  # typed parts (Mistral's text and thinking chunks): the text of them
                    choice.text.extend(genai.texts(field(part, "text") for part in content))
            reasoning_field = self.reasoning_field
            if reasoning_field is not None:
                reasoning = getattr(delta, reasoning_field, None)
                if reasoning:
                    choice.reasoning.append(reasoning)
            if role:
                choice.role = role
            if refusal:
                choice.refusal.append(refusal)
            if calls:
                _add_tool_calls(choice, calls)
            if reason:
                choice.finish_reason = reason

    def record(self, attributes: Attributes) -> None:
        if self.first is not None:
            record_identity(attributes, self.first, genai.reader(self.first))
        record_usage(attributes, self.usage)
        ordered = [self.choices[index] for index in sorted(self.choices)]
        record_finish_reasons(attributes, [choice.finish_reason for choice in ordered])
        if ordered:
            genai.set_written_content(
                attributes,
                semconv.GEN_AI_OUTPUT_MESSAGES,
                self._text_replies_json(ordered),
                lambda: [self._output(choice) for choice in ordered],
            )

    def _text_replies_json(self, choices: list[_Choice]) -> str | None:
        if type(self).output_message is not ChatStream.output_message:
            return None  # a provider's own reading of its messages
        written = []
        for choice in choices:
            if choice.calls or choice.refusal:
                return None
            one = chat_output_json(
                choice.role or "assistant", "".join(choice.text) or None, choice.finish_reason
            )
            if one is None:
                return None
            written.append(one)
        return written_messages.array(written)

    def _output(self, choice: _Choice) -> dict[str, Any]:
        message = {
            "role": choice.role or "assistant",
            "content": "".join(choice.text) or None,
            "refusal": "".join(choice.refusal) or None,
            "reasoning_content": "".join(choice.reasoning) or None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "function": {"name": call["name"], "arguments": _arguments(call["arguments"])},
                }
                for _, call in sorted(choice.calls.items())
            ],
        }
        return self.output_message(message, choice.finish_reason)

    def output_message(self, message: dict[str, Any], finish_reason: object) -> dict[str, Any]:
        return chat_output_message(message, finish_reason)
