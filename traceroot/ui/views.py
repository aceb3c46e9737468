"""What each page of the UI shows, as JSON-ready values built from the store's rows.

Messages are read by :func:`traceroot.transcript.chat_lines`, as ``traceroot show -v`` reads
them, and a span's tags and metadata by :func:`traceroot.render.context`: the browser only lays
out what it is given. Every value from a span stays plain text here; the page inserts it as text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from traceroot import costs, render, semconv
from traceroot.records import StoredSpan
from traceroot.transcript import chat_lines
from traceroot.ui import queries
from traceroot.ui.queries import Filters

_ROLES: Final = frozenset({"user", "assistant", "system", "tool", "developer"})
# Where a span's input and output are, in the order they are looked for.
_INPUTS: Final = (
    semconv.SPAN_INPUT,
    semconv.OPENINFERENCE_INPUT_VALUE,
    semconv.GEN_AI_INPUT_MESSAGES,
)
_OUTPUTS: Final = (
    semconv.SPAN_OUTPUT,
    semconv.OPENINFERENCE_OUTPUT_VALUE,
    semconv.GEN_AI_OUTPUT_MESSAGES,
)
# The panel's sections: attribute, label; tool values only where they do not repeat the span's
# input and output (``@observe`` writes both).
_SECTIONS: Final = (
    (semconv.GEN_AI_SYSTEM_INSTRUCTIONS, "system instructions", None),
    (semconv.GEN_AI_INPUT_MESSAGES, "input messages", None),
    (semconv.GEN_AI_OUTPUT_MESSAGES, "output messages", None),
    (semconv.SPAN_INPUT, "input", None),
    (semconv.SPAN_OUTPUT, "output", None),
    (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, "tool arguments", semconv.SPAN_INPUT),
    (semconv.GEN_AI_TOOL_CALL_RESULT, "tool result", semconv.SPAN_OUTPUT),
    (semconv.GEN_AI_TOOL_DEFINITIONS, "tools offered", None),
)
_PARAMETER_PREFIX: Final = "gen_ai.request."
_CELL_LIMIT: Final = 400  # characters of a list cell
_TURN_LIMIT: Final = 4000  # characters of a turn; the trace shows all of it


def sessions_page(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int
) -> dict[str, Any]:
    rows = queries.session_rows(connection, filters, limit=limit, offset=offset)
    shown = []
    for row in rows:
        roots = _first_and_last_roots(connection, row["session_id"])
        shown.append(
            {
                "session_id": row["session_id"],
                "user_id": _one(row["user_ids"]),
                "users": len(row["user_ids"]),
                "traces": len(row["traces"]),
                "first_input": _turn_text(roots[0], _INPUTS, "user") if roots else None,
                "last_output": _turn_text(roots[-1], _OUTPUTS, "assistant") if roots else None,
                **_totals(row),
                "first_ms": _ms(row["first_ns"]),
                "last_ms": _ms(row["last_ns"]),
            }
        )
    return {"rows": shown, "stats": queries.stats(connection, filters), **_meta()}


def users_page(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int
) -> dict[str, Any]:
    rows = queries.user_rows(connection, filters, limit=limit, offset=offset)
    shown = [
        {
            "user_id": row["user_id"],
            "sessions": len(row["session_ids"]),
            "traces": len(row["traces"]),
            **_totals(row),
            "first_ms": _ms(row["first_ns"]),
            "last_ms": _ms(row["last_ns"]),
        }
        for row in rows
    ]
    return {"rows": shown, "stats": queries.stats(connection, filters), **_meta()}


def traces_page(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int
) -> dict[str, Any]:
    rows = queries.trace_rows(connection, filters, limit=limit, offset=offset)
    return {
        "rows": [_trace_summary(row["root"], row) for row in rows],
        "stats": queries.stats(connection, filters),
        **_meta(),
    }


def session_page(connection: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    """A session as a conversation: each trace a turn, its input and output as chat."""
    roots = queries.session_roots(connection, session_id)
    if not roots:
        return None
    totals = queries.trace_totals(connection, [root["trace_id"] for root in roots])
    turns = [_trace_summary(dict(root), totals[root["trace_id"]]) for root in roots]
    users = sorted({root["user_id"] for root in roots if root["user_id"]})
    everything = {
        "input_tokens": sum(turn["input_tokens"] for turn in turns),
        "output_tokens": sum(turn["output_tokens"] for turn in turns),
        "errors": sum(turn["errors"] for turn in turns),
        "cost": _sum_known(turn["cost"] for turn in turns),
    }
    return {
        "session_id": session_id,
        "users": users,
        "turns": turns,
        **everything,
        "first_ms": _ms(roots[0]["start_ns"]),
        "last_ms": _ms(max(root["end_ns"] for root in roots)),
        **_meta(),
    }


def trace_page(connection: sqlite3.Connection, trace_id: str) -> dict[str, Any] | None:
    """A trace: its spans in tree order (depth-first, by start), each with its panel."""
    rows = queries.trace_spans(connection, trace_id)
    if not rows:
        return None
    spans = [_record(row) for row in rows]
    start = min(span.start_ns for span in spans)
    end = max(span.end_ns for span in spans)
    ordered = render.tree_order(spans)
    shown = [_span(span, depth, start) for span, depth in ordered]
    root = ordered[0][0]
    trace_context = render.context(root)
    return {
        "trace_id": trace_id,
        "name": root.name,
        "session_id": trace_context.session_id,
        "user_id": trace_context.user_id,
        "tags": list(trace_context.tags),
        "start_ms": _ms(start),
        "duration_ms": (end - start) / 1e6,
        "input_tokens": sum(span.input_tokens or 0 for span in spans),
        "output_tokens": sum(span.output_tokens or 0 for span in spans),
        "errors": sum(span.status == "ERROR" for span in spans),
        "cost": _sum_known(span["cost"] for span in shown),
        "spans": shown,
        **_meta(),
    }


def _meta() -> dict[str, Any]:
    return {"prices": costs.available()}


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "spans": row["spans"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "errors": row["errors"],
        "cost": costs.total(row["calls"]),
    }


def _trace_summary(root: dict[str, Any], totals: dict[str, Any]) -> dict[str, Any]:
    attributes = render.object_or_empty(root["attributes"])
    return {
        "trace_id": root["trace_id"],
        "name": root["name"],
        "session_id": root["session_id"],
        "user_id": root["user_id"],
        "start_ms": _ms(root["start_ns"]),
        "duration_ms": (root["end_ns"] - root["start_ns"]) / 1e6,
        "status": root["status"],
        "input": _turn(attributes, _INPUTS, "user"),
        "output": _turn(attributes, _OUTPUTS, "assistant"),
        **_totals(totals),
    }


def _first_and_last_roots(connection: sqlite3.Connection, session_id: str) -> list[sqlite3.Row]:
    found = []
    for order in ("", " DESC"):
        found.extend(
            connection.execute(
                f"SELECT attributes FROM spans WHERE session_id = ? AND {queries.root(connection)} "
                f"ORDER BY start_ns{order} LIMIT 1",
                (session_id,),
            ).fetchall()
        )
    return found


def _turn_text(row: sqlite3.Row, keys: Sequence[str], role: str) -> str | None:
    turn = _turn(render.object_or_empty(row["attributes"]), keys, role)
    return None if turn is None else _short(turn["text"], _CELL_LIMIT)


def _turn(attributes: dict[str, Any], keys: Sequence[str], role: str) -> dict[str, str] | None:
    """A turn's side of the chat: the last message of ``role`` in the first value found (a
    graph's state repeats the whole chat), else that value as text."""
    for key in keys:
        if key not in attributes:
            continue
        parsed = render.parsed_or_text(attributes[key])
        messages = _messages(parsed)
        if messages:
            mine = [message for message in messages if message["role"] == role]
            last = (mine or messages)[-1]
            return {"role": last["role"], "text": _short(last["text"], _TURN_LIMIT)}
        return {"role": role, "text": _short(_text(parsed), _TURN_LIMIT)}
    return None


def _span(span: StoredSpan, depth: int, trace_start: int) -> dict[str, Any]:
    attributes = span.attributes
    context = render.context(span)
    call = costs.usage(span.model, span.input_tokens, span.output_tokens, attributes, span.start_ns)
    sections = []
    for key, label, same_as in _SECTIONS:
        if key in attributes and (same_as is None or attributes.get(same_as) != attributes[key]):
            sections.append(_section(label, attributes[key]))
    return {
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "depth": depth,
        "name": span.name,
        "kind": span.kind,
        "operation": _optional_text(attributes.get(semconv.GEN_AI_OPERATION_NAME)),
        "offset_ms": (span.start_ns - trace_start) / 1e6,
        "start_ms": _ms(span.start_ns),
        "duration_ms": span.duration_ms,
        "status": span.status,
        "status_message": span.status_message,
        "error_type": _optional_text(attributes.get(semconv.ERROR_TYPE)),
        "model": span.model,
        "provider": call.provider,
        "session_id": span.session_id,
        "user_id": span.user_id,
        "service_name": span.service_name,
        "tags": list(context.tags),
        "metadata": _pretty(render.parsed_or_text(context.metadata)) if context.metadata else None,
        "parameters": _parameters(attributes),
        "usage": _usage(span, call),
        "cost": costs.cost(call),
        "tool": _optional_text(attributes.get(semconv.GEN_AI_TOOL_NAME)),
        "tool_call_id": _optional_text(attributes.get(semconv.GEN_AI_TOOL_CALL_ID)),
        "sections": sections,
        "exceptions": [
            {
                "type": _text(event["attributes"].get(semconv.EXCEPTION_TYPE, "")),
                "message": _text(event["attributes"].get(semconv.EXCEPTION_MESSAGE, "")),
                "stacktrace": _text(event["attributes"].get(semconv.EXCEPTION_STACKTRACE, "")),
            }
            for event in span.events
            if isinstance(event, dict)
            and event.get("name") == semconv.EXCEPTION_EVENT
            and isinstance(event.get("attributes"), dict)
        ],
        "attributes": [[key, _text(value)] for key, value in sorted(attributes.items())],
    }


def _usage(span: StoredSpan, call: costs.Usage) -> dict[str, int] | None:
    usage = {
        "input": span.input_tokens,
        "output": span.output_tokens,
        "cache read": call.cache_read_tokens,
        "cache write": call.cache_write_tokens,
    }
    reasoning = span.attributes.get(semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)
    if isinstance(reasoning, int):
        usage["reasoning"] = reasoning
    found = {key: value for key, value in usage.items() if value is not None}
    return found or None


def _parameters(attributes: dict[str, Any]) -> list[list[str]]:
    found = [
        [key.removeprefix(_PARAMETER_PREFIX), _text(value)]
        for key, value in sorted(attributes.items())
        if key.startswith(_PARAMETER_PREFIX) and key != semconv.GEN_AI_REQUEST_MODEL
    ]
    for key in (semconv.LLM_MODEL_PARAMETERS, semconv.OPENINFERENCE_INVOCATION_PARAMETERS):
        parsed = render.parsed_or_text(attributes.get(key))
        if isinstance(parsed, dict):
            found.extend([str(name), _text(value)] for name, value in parsed.items())
    return found


def _section(label: str, stored: Any) -> dict[str, Any]:
    """A stored value: its messages as a chat where it holds one, else the value as text."""
    parsed = render.parsed_or_text(stored)
    messages = _messages(parsed)
    if messages:
        return {"label": label, "chat": messages}
    return {"label": label, "text": _pretty(parsed)}


def _messages(value: Any) -> list[dict[str, str]] | None:
    """``chat_lines`` split into role and text; a line without a role keeps its whole text."""
    try:
        lines = chat_lines(value)
    except RecursionError:
        return None
    if not lines:
        return None
    messages = []
    for line in lines:
        role, separator, text = line.partition(": ")
        if separator and role in _ROLES:
            messages.append({"role": role, "text": text})
        else:
            messages.append({"role": "", "text": line})
    return messages


def _record(row: sqlite3.Row) -> StoredSpan:
    """The record from the first schema's columns (any store has them); the later fields keep
    their defaults."""
    values = dict(row)
    values["attributes"] = render.object_or_empty(values["attributes"])
    events = render.parsed_or_text(values["events"])
    values["events"] = events if isinstance(events, list) else []
    return StoredSpan(**values)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return repr(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return repr(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one(values: set[str]) -> str | None:
    return min(values) if values else None


def _ms(nanoseconds: int | None) -> float | None:
    return None if nanoseconds is None else nanoseconds / 1e6


def _sum_known(values: Any) -> float | None:
    found = [value for value in values if value is not None]
    return sum(found) if found else None
