"""A LlamaIndex call's arguments and result, as a user reads them.

LlamaIndex hands every instrumented call's bound arguments to the span handler when the call
starts, and its result when it ends: one rendering covers query engines, retrievers,
synthesizers, an LLM's ``predict``, tools and workflow steps alike. LlamaIndex's own objects are
shown by what a user looks for: a query by its text, a node by its id, score and text, a response
by its text and the ids of its sources, a prompt template by its text, an event by its fields.
Components (an LLM, a memory, a workflow context) are shown by their type name, never by their
pydantic fields: those can hold a whole index, and cost on every call.

Everything is bounded, and so that the whole stays readable rather than cut off at the end by the
attribute budget: so many items of a list, and each of several texts (nodes, chunks, a template's
variables) cut to its share of the budget, marked where it was cut.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Final

from traceroot.call_inputs import without_user_reprs
from traceroot.config import current as current_settings
from traceroot.integrations.llama_index.convert import core_types

_TEXT_LIMIT: Final = 2_000  # characters of a node's text, or of each text in a list (chunks)
_MIN_TEXT_SHARE: Final = 200  # ... and at least this many, however many texts share the budget
_MAX_ITEMS: Final = 20  # items of a list or fields of an object shown; the rest are counted
_MAX_DEPTH: Final = 6  # objects inside objects: deeper ones are shown by their type name
_LIBRARY_MODULES: Final = ("llama_index.", "workflows.")
_SKIPPED_FIELDS: Final = frozenset({"raw"})  # the provider's raw reply: its content is shown
_VAR_KEYWORD: Final = inspect.Parameter.VAR_KEYWORD
_VAR_POSITIONAL: Final = inspect.Parameter.VAR_POSITIONAL
_MISSING: Final = object()


def arguments(bound_args: inspect.BoundArguments, llm: Any = None) -> Any:
    """A call's arguments by name, ``**kwargs`` merged in (``None`` for none); the query text
    alone for a call whose one argument is the query (``query``, ``retrieve``), as a retriever's
    input is shown elsewhere.

    A prompt template is shown by its text, with the variables it already holds (the question, in
    a refine step) next to the ones passed. ``llm`` picks the template's variant for that model.
    """
    values: dict[str, Any] = {}
    parameters = bound_args.signature.parameters
    for name, value in bound_args.arguments.items():
        kind = parameters[name].kind
        if kind is _VAR_KEYWORD:
            values.update(value)
        elif kind is _VAR_POSITIONAL:
            if value:  # arguments in their own right, not items of one list
                values[name] = [_render(item, llm, 0) for item in value[:_MAX_ITEMS]]
        elif name not in ("self", "cls"):
            values[name] = value
    if not values:
        return None  # nothing passed: no input to show
    types = core_types()
    if len(values) == 1:
        ((name, value),) = values.items()
        if name == "str_or_query_bundle" or isinstance(value, types.query_bundle):
            return value.query_str if isinstance(value, types.query_bundle) else value
    shown: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, types.prompt):
            template = _selected(value, llm)
            shown[name] = template.get_template()
            held = getattr(template, "kwargs", None)
            if isinstance(held, Mapping):
                variables.update(held)
        else:
            shown[name] = _render(value, llm, 0)
    for key, variable in variables.items():
        shown.setdefault(key, _render(variable, llm, 0))
    if len(shown) > 1:
        # Each text a share of the budget: a long context must not push the question out.
        share = _share(len(shown), cap=None)
        for name, value in shown.items():
            if isinstance(value, str) and len(value) > share:
                shown[name] = _cut(value, share)
    return without_user_reprs(shown)


def result(value: Any, *, answer: bool) -> Any:
    """A call's return value; the text alone when it is the ``answer`` a user asked for (a query
    or chat engine's response, an agent's reply)."""
    if answer:
        if isinstance(value, core_types().stop_event):
            value = value.result
        text = _answer_text(value)
        if text is not _MISSING:
            return text
    return _render(value, None, 0)


def _render(value: Any, llm: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value  # one text on its own: the attribute budget bounds it
    types = core_types()
    if isinstance(value, types.node_with_score):
        return _node(value.node, value.score, _TEXT_LIMIT)
    if isinstance(value, types.node):
        return _node(value, None, _TEXT_LIMIT)
    if isinstance(value, types.chat_message):
        return _chat_message(value)
    if isinstance(value, types.query_bundle):
        return value.query_str
    if isinstance(value, types.prompt):
        return _selected(value, llm).get_template()
    if depth >= _MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)):
        return _items(value, llm, depth)
    if isinstance(value, Mapping):
        return _mapping(value.items(), len(value), llm, depth)
    if type(value).__module__.startswith(_LIBRARY_MODULES):
        return _library_object(value, llm, depth)
    return value  # the user's own object: the serializer shows its fields, or its repr


def _items(values: list[Any] | tuple[Any, ...], llm: Any, depth: int) -> list[Any]:
    """The first items of a list; the texts in it (nodes, chunks) each cut to a share of the
    attribute budget, so that all of them show rather than the first few."""
    first = values[:_MAX_ITEMS]
    share = _share(len(first), cap=_TEXT_LIMIT)
    types = core_types()
    shown: list[Any] = []
    for item in first:
        if isinstance(item, str):
            shown.append(_cut(item, share))
        elif isinstance(item, types.node_with_score):
            shown.append(_node(item.node, item.score, share))
        elif isinstance(item, types.node):
            shown.append(_node(item, None, share))
        else:
            shown.append(_render(item, llm, depth + 1))
    if len(values) > _MAX_ITEMS:
        shown.append(f"... {len(values) - _MAX_ITEMS} more")
    return shown


def _share(count: int, *, cap: int | None) -> int:
    """Characters each of ``count`` texts may have so that all of them fit the attribute budget
    (with room for the JSON around them), at most ``cap``."""
    share = current_settings().max_attribute_bytes * 3 // 4 // max(count, 1)
    if cap is not None:
        share = min(cap, share)
    return max(_MIN_TEXT_SHARE, share)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _library_object(value: Any, llm: Any, depth: int) -> Any:
    types = core_types()
    if isinstance(value, types.stop_event) and value.result is not value:
        return _render(value.result, llm, depth + 1)
    if isinstance(value, types.event):
        return _fields(value, llm, depth)
    if isinstance(value, types.component):
        return f"<{type(value).__name__}>"
    text = _answer_text(value)
    if text is not _MISSING:
        sources = getattr(value, "source_nodes", None)
        if not sources:
            return _render(text, llm, depth + 1)
        ids = [getattr(getattr(s, "node", s), "node_id", None) for s in sources[:_MAX_ITEMS]]
        return {"response": _render(text, llm, depth + 1), "source_ids": ids}
    if hasattr(type(value), "model_fields"):
        return _fields(value, llm, depth)  # plain data: a tool selection, a usage record
    return f"<{type(value).__name__}>"


def _answer_text(value: Any) -> Any:
    """The text of a LlamaIndex response, reply or tool output; ``_MISSING`` for anything else."""
    response = getattr(value, "response", _MISSING)
    if response is not _MISSING:
        if isinstance(response, core_types().chat_message):
            return response.content  # AgentOutput
        return response  # Response, AgentChatResponse: text; PydanticResponse: the user's model
    message = getattr(value, "message", None)
    if isinstance(message, core_types().chat_message):
        return message.content  # ChatResponse
    for name in ("text", "content"):  # CompletionResponse, ToolOutput
        text = getattr(value, name, None)
        if isinstance(text, str):
            return text
    return _MISSING


def _fields(value: Any, llm: Any, depth: int) -> dict[str, Any]:
    """A pydantic object's public fields (and an event's extra ones)."""
    names = [name for name in type(value).model_fields if name not in _SKIPPED_FIELDS]
    items: list[tuple[str, Any]] = [(name, getattr(value, name, None)) for name in names]
    extra = getattr(value, "_data", None)  # a workflow event's fields given at construction
    if isinstance(extra, dict):
        items.extend(extra.items())
    return _mapping(items, len(items), llm, depth)


def _mapping(items: Any, count: int, llm: Any, depth: int) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for index, (key, item) in enumerate(items):
        if index >= _MAX_ITEMS:
            shown["..."] = f"{count - _MAX_ITEMS} more"
            break
        shown[key if isinstance(key, str) else str(key)] = _render(item, llm, depth + 1)
    return shown


def _node(node: Any, score: Any, limit: int) -> dict[str, Any]:
    text = getattr(node, "text", None)
    if not isinstance(text, str):
        text = node.get_content() if hasattr(node, "get_content") else ""
    shown: dict[str, Any] = {"id": getattr(node, "node_id", None)}
    if score is not None:
        shown["score"] = score
    shown["text"] = _cut(text, limit) if isinstance(text, str) else text
    return shown


def _chat_message(message: Any) -> dict[str, Any]:
    return {"role": getattr(message.role, "value", message.role), "content": message.content}


def _selected(template: Any, llm: Any) -> Any:
    """The variant of a selector template that ``llm`` gets (a chat model gets messages)."""
    if isinstance(template, core_types().selector_prompt):
        return template.select(llm=llm)
    return template
