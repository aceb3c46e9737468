"""Span trees as text, for the console exporter and the ``traceroot`` command."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from traceroot import semconv
from traceroot.records import StoredSpan
from traceroot.terminal import printable

_MAX_INDENT: Final = 50  # levels indented; deeper lines carry their depth
_COLOURS: Final = {"agent": "35", "tool": "33", "llm": "36", "span": "37", "ERROR": "31"}


def tree(spans: Sequence[StoredSpan], *, verbose: bool = False, colour: bool = False) -> str:
    """One trace as an indented tree, children under parents, in start order.

    Walked with a stack of its own, not by recursion, so a trace of any depth prints; past
    :data:`_MAX_INDENT` levels the indent stays put and each line says its depth instead.
    """
    by_id = {span.span_id: span for span in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in by_id else None
        children.setdefault(parent, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_ns, reverse=True)  # popped from the end: earliest first
    lines = [f"trace {printable(spans[0].trace_id)}" if spans else "trace (empty)"]
    printed: set[str] = set()
    stack = [(span, 0) for span in children.get(None, [])]
    unreached = sorted(spans, key=lambda s: s.start_ns, reverse=True)
    while stack or unreached:
        if not stack:
            # Spans whose parents form a loop (a corrupt store) are shown too, as roots.
            span = unreached.pop()
            if span.span_id not in printed:
                stack.append((span, 0))
            continue
        span, depth = stack.pop()
        if span.span_id in printed:
            continue
        printed.add(span.span_id)
        indent = "  " * (min(depth, _MAX_INDENT) + 1)
        if depth > _MAX_INDENT:
            indent += f"(depth {depth}) "
        lines.append(indent + line(span, colour=colour))
        if verbose:
            lines.extend(indent + "  " + detail for detail in details(span))
        stack.extend((child, depth + 1) for child in children.get(span.span_id, []))
    return "\n".join(lines) + "\n"


def line(span: StoredSpan, *, colour: bool = False) -> str:
    kind = f"[{printable(span.kind)}]"
    if colour:
        kind = _paint(kind, _COLOURS.get(span.kind, "37"))
    parts = [f"{kind} {printable(span.name)}", f"{span.duration_ms:.1f} ms"]
    if span.model:
        parts.append(f"model={printable(span.model)}")
    if span.input_tokens is not None or span.output_tokens is not None:
        parts.append(f"tokens={span.input_tokens or 0}+{span.output_tokens or 0}")
    if span.session_id:
        parts.append(f"session={printable(span.session_id)}")
    if span.status == "ERROR":
        cause = span.attributes.get(semconv.ERROR_TYPE) or span.status_message or ""
        error = f"ERROR {_short(cause)}".rstrip()
        parts.append(_paint(error, _COLOURS["ERROR"]) if colour else error)
    return "  ".join(parts)


def details(span: StoredSpan) -> list[str]:
    """Inputs, outputs and LLM messages, the messages rendered as a chat."""
    attributes = span.attributes
    shown: list[str] = []
    for key, label in ((semconv.GEN_AI_INPUT_MESSAGES, ""), (semconv.GEN_AI_OUTPUT_MESSAGES, "")):
        for message in _loads(attributes.get(key)) or []:
            if isinstance(message, dict):
                role = printable(message.get("role", "?"))
                shown.append(f"{role}: {_parts(message.get('parts'))}{label}")
    for key, label in (
        (semconv.SPAN_INPUT, "input"),
        (semconv.SPAN_OUTPUT, "output"),
        (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, "arguments"),
        (semconv.GEN_AI_TOOL_CALL_RESULT, "result"),
    ):
        if key in attributes:
            shown.append(f"{label}: {_short(attributes[key])}")
    return shown


def _parts(parts: Any) -> str:
    rendered = []
    for part in parts or []:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            rendered.append(str(part.get("content")))
        elif kind == "tool_call":
            arguments = json.dumps(part.get("arguments"), ensure_ascii=False)
            rendered.append(f"-> {part.get('name')}({arguments})")
        elif kind == "tool_call_response":
            rendered.append(f"<- {_short(part.get('response'))}")
        else:
            rendered.append(f"<{kind}>")
    return _short(" ".join(rendered))


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = printable(text.replace("\n", " "))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"
