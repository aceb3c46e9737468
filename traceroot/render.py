"""Span trees as text, for the console exporter and the ``traceroot`` command."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from traceroot import semconv
from traceroot.records import StoredSpan
from traceroot.terminal import printable
from traceroot.transcript import chat_lines

_MAX_INDENT: Final = 50  # levels indented; deeper lines carry their depth
_COLOURS: Final = {"agent": "35", "tool": "33", "llm": "36", "span": "37", "ERROR": "31"}
# Messages shown per value: the latest, since a graph's state repeats the whole chat at each step.
_MAX_MESSAGES: Final = 8


class Context(NamedTuple):
    """Who and what a span ran for: the trace's, from its root, or a span's own."""

    session_id: str | None
    user_id: str | None
    tags: tuple[str, ...]
    metadata: str | None  # compact JSON, or None when there is none


def tree(spans: Sequence[StoredSpan], *, verbose: bool = False, colour: bool = False) -> str:
    """One trace as an indented tree, children under parents, in start order.

    The first line names the trace with its session, user, tags and metadata (its root's); a
    span's line repeats a session or user only where it differs, and ``verbose`` adds its tags or
    metadata where those differ. Walked with a stack of its own, not by recursion, so a trace of
    any depth prints; past :data:`_MAX_INDENT` levels the indent stays put and each line says its
    depth instead.
    """
    ordered = tree_order(spans)
    trace_context = context(ordered[0][0]) if ordered else Context(None, None, (), None)
    lines = [header(spans[0].trace_id, trace_context) if spans else "trace (empty)"]
    for span, depth in ordered:
        indent = "  " * (min(depth, _MAX_INDENT) + 1)
        if depth > _MAX_INDENT:
            indent += f"(depth {depth}) "
        lines.append(indent + line(span, colour=colour, trace=trace_context))
        if verbose:
            shown = _differences(context(span), trace_context) + details(span)
            lines.extend(indent + "  " + detail for detail in shown)
    return "\n".join(lines) + "\n"


def tree_order(spans: Sequence[StoredSpan]) -> list[tuple[StoredSpan, int]]:
    """Each span with its depth, depth-first, children in start order; a span whose parent is
    missing is a root, and spans whose parents form a loop (a corrupt store) come as roots too.
    Walked with a stack of its own, not by recursion: a trace of any depth."""
    by_id = {span.span_id: span for span in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in by_id else None
        children.setdefault(parent, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_ns, reverse=True)  # popped from the end: earliest first
    ordered: list[tuple[StoredSpan, int]] = []
    seen: set[str] = set()
    unreached = sorted(spans, key=lambda s: s.start_ns, reverse=True)
    stack = [(span, 0) for span in children.get(None, [])]
    while stack or unreached:
        if not stack:
            span = unreached.pop()
            if span.span_id not in seen:
                stack.append((span, 0))
            continue
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        ordered.append((span, depth))
        stack.extend((child, depth + 1) for child in children.get(span.span_id, []))
    return ordered


def header(trace_id: str, trace: Context) -> str:
    """``trace ID`` and what the trace ran for: session, user, tags, metadata."""
    parts = [f"trace {printable(trace_id)}"]
    if trace.session_id:
        parts.append(f"session={printable(trace.session_id)}")
    if trace.user_id:
        parts.append(f"user={printable(trace.user_id)}")
    if trace.tags:
        parts.append(f"tags={_short(','.join(trace.tags), 100)}")
    if trace.metadata:
        parts.append(f"metadata={_short(trace.metadata, 120)}")
    return "  ".join(parts)


def context(span: StoredSpan) -> Context:
    """A span's session, user, tags and metadata: its own merged with the trace-level values
    ``update_current_trace`` stamped on it (those win, as they do in the TraceRoot backend)."""
    attributes = span.attributes
    tags = [
        *_strings(attributes.get(semconv.SPAN_TAGS)),
        *_strings(attributes.get(semconv.TRACE_TAGS)),
    ]
    metadata = {
        **object_or_empty(attributes.get(semconv.SPAN_METADATA)),
        **object_or_empty(attributes.get(semconv.TRACE_METADATA)),
    }
    return Context(
        span.session_id,
        span.user_id,
        tuple(dict.fromkeys(tags)),
        _compact(metadata) if metadata else None,
    )


def line(span: StoredSpan, *, colour: bool = False, trace: Context | None = None) -> str:
    kind = f"[{printable(span.kind)}]"
    if colour:
        kind = _paint(kind, _COLOURS.get(span.kind, "37"))
    parts = [f"{kind} {printable(span.name)}", f"{span.duration_ms:.1f} ms"]
    if span.model:
        parts.append(f"model={printable(span.model)}")
    if span.input_tokens is not None or span.output_tokens is not None:
        parts.append(f"tokens={span.input_tokens or 0}+{span.output_tokens or 0}")
    # Where it differs from the trace's: a span without one in a trace with one shows "-".
    trace = trace or Context(None, None, (), None)
    if span.session_id != trace.session_id:
        parts.append(f"session={printable(span.session_id or '-')}")
    if span.user_id != trace.user_id:
        parts.append(f"user={printable(span.user_id or '-')}")
    if span.status == "ERROR":
        cause = span.attributes.get(semconv.ERROR_TYPE) or span.status_message or ""
        error = f"ERROR {_short(cause)}".rstrip()
        parts.append(_paint(error, _COLOURS["ERROR"]) if colour else error)
    return "  ".join(parts)


def details(span: StoredSpan) -> list[str]:
    """Inputs, outputs and LLM messages; messages, wherever they are, rendered as a chat."""
    attributes = span.attributes
    shown: list[str] = []
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        if key in attributes:
            chat = _chat(parsed_or_text(attributes[key]))
            shown.extend(_latest(chat) if chat is not None else [_short(attributes[key])])
    for key, label, same_as in (
        (semconv.SPAN_INPUT, "input", None),
        (semconv.SPAN_OUTPUT, "output", None),
        # A tool's call values, unless they only repeat its input and output (``@observe``).
        (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, "arguments", semconv.SPAN_INPUT),
        (semconv.GEN_AI_TOOL_CALL_RESULT, "result", semconv.SPAN_OUTPUT),
    ):
        if key in attributes and (same_as is None or attributes.get(same_as) != attributes[key]):
            shown.extend(_value(label, attributes[key]))
    return shown


def _differences(span: Context, trace: Context) -> list[str]:
    """A span's tags and metadata, where they are not the trace's."""
    shown = []
    if span.tags and set(span.tags) != set(trace.tags):
        shown.append(f"tags: {_short(','.join(span.tags))}")
    if span.metadata and span.metadata != trace.metadata:
        shown.append(f"metadata: {_short(span.metadata)}")
    return shown


def _value(label: str, stored: Any) -> list[str]:
    """A stored input or output: its messages as a chat, else the value on one line.

    A value that is not JSON (a plain string, as stored) is shown as the text it is; a JSON
    string without its quotes, so both ways of storing a string read the same."""
    parsed = parsed_or_text(stored)
    chat = _chat(parsed)
    if chat is None:
        return [f"{label}: {_short(parsed if isinstance(parsed, str) else stored)}"]
    chat = _latest(chat)
    if len(chat) == 1:
        return [f"{label}: {chat[0]}"]
    return [f"{label}:", *("  " + item for item in chat)]


def _chat(value: Any) -> list[str] | None:
    try:
        return chat_lines(value)
    except RecursionError:  # nested past any real chat (a hostile or corrupt value): as stored
        return None


def _latest(chat: list[str]) -> list[str]:
    """The last :data:`_MAX_MESSAGES` lines, shortened and made printable."""
    shown = [_short(item) for item in chat[-_MAX_MESSAGES:]]
    if len(chat) > _MAX_MESSAGES:
        shown.insert(0, f"({len(chat) - _MAX_MESSAGES} earlier)")
    return shown


def _strings(value: Any) -> list[str]:
    """Tags as stored: a list of strings, or (from another tracer) one JSON-encoded list."""
    if isinstance(value, str):
        value = parsed_or_text(value)
    return [str(item) for item in value] if isinstance(value, list) else []


def object_or_empty(value: Any) -> dict[str, Any]:
    """A JSON object's text as a dict; anything else as an empty one."""
    parsed = parsed_or_text(value)
    return parsed if isinstance(parsed, dict) else {}


def parsed_or_text(text: Any) -> Any:
    """Stored JSON text parsed; what is not JSON stays the text it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text  # not JSON (or nested past reading): shown as the text it is


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = printable(text.replace("\n", " "))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"
