"""Turn any Python value into JSON text that fits an attribute budget, without ever raising.

Secrets are taken out of the text (:func:`traceroot.secrets.scrub`) before it is measured, so
whatever the value, and whether or not it is cut, no secret of it is in the result.

The common case (dicts, lists, strings, numbers) goes straight through the C encoder. Anything it
refuses (cycles, NaN, odd keys, objects whose hooks raise) takes a careful pure-Python path that
bounds depth and item counts. Text over the budget becomes a small JSON object that says so:
``{"truncated": true, "original_length": <bytes>, "preview": "<start of the JSON text>"}``.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Final

from traceroot import secrets

DEFAULT_BUDGET: Final = 32 * 1024
MIN_BUDGET: Final = 256
_MAX_DEPTH: Final = 32
_MAX_ITEMS: Final = 1_000
_REPR_LIMIT: Final = 1_000
_TRUNCATED_KEY: Final = "truncated"
# Longer than any credential shape (a PEM private key is longer, and is redacted to the end of
# its string when cut).
_SCAN_PAST_CUT: Final = 512

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def to_json(value: Any, *, budget: int = DEFAULT_BUDGET) -> str:
    """Return ``value`` as JSON text of at most ``budget`` UTF-8 bytes.

    >>> to_json({"query": "weather", "when": datetime.date(2026, 1, 2)})
    '{"query":"weather","when":"2026-01-02"}'
    """
    return to_json_checked(value, budget=budget)[0]


def json_object(text: object) -> dict[str, Any]:
    """The object in JSON text written earlier (by traceroot or another tracer), or ``{}``: for
    anything else, and for a value cut to the size budget."""
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) and value.get("truncated") is not True else {}


def exportable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate (which no exporter can encode, and which
    would lose the whole batch it is in) becomes U+FFFD; a pair written as two halves is joined.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def to_json_checked(value: Any, *, budget: int = DEFAULT_BUDGET) -> tuple[str, bool]:
    """Like :func:`to_json`, also saying whether the text had to be truncated."""
    budget = max(budget, MIN_BUDGET)
    if isinstance(value, str) and len(value) > budget:
        # Never encode a huge string whole: only its start can survive. Scanned for secrets a
        # little past the cut, so that a credential straddling it shows no part of itself.
        text = secrets.scrub(_encode_safely(value[: budget + _SCAN_PAST_CUT]))
        return _truncate(text, budget, original_length=len(value.encode("utf-8", "replace"))), True
    try:
        text = _fast_encode(value)
        if not text.isascii():
            text.encode(
                "utf-8"
            )  # lone surrogates cannot be exported: the careful path escapes them
    except Exception:  # noqa: BLE001 - any failure of the fast path falls back to the careful one
        text = _encode_safely(_jsonable(value, 0, budget, set()))
    # Before any truncation: a preview must not show what the whole text would hide.
    text = secrets.scrub(text)
    size = len(text) if len(text) * 4 <= budget else len(text.encode("utf-8"))
    if size <= budget:
        return text, False
    return _truncate(text, budget, original_length=size), True


def _encode_safely(value: Any) -> str:
    try:
        text = _encode(value)
        text.encode("utf-8")
        return text
    except Exception:  # noqa: BLE001 - surrogates or a NaN hidden in a str subclass
        return json.dumps(_jsonable(value, 0, DEFAULT_BUDGET, set()), ensure_ascii=True)


def _truncate(text: str, budget: int, *, original_length: int) -> str:
    keep = budget
    while keep > 0:
        marked = json.dumps(
            {_TRUNCATED_KEY: True, "original_length": original_length, "preview": text[:keep]},
            ensure_ascii=False,
        )
        try:
            size = len(marked.encode("utf-8"))
        except UnicodeEncodeError:
            marked = json.dumps(
                {_TRUNCATED_KEY: True, "original_length": original_length, "preview": text[:keep]}
            )
            size = len(marked)
        if size <= budget:
            return marked
        # Escapes can make the marked text longer than the preview; shrink in proportion.
        keep = min(keep - 1, int(keep * budget / size) - 16)
    return json.dumps({_TRUNCATED_KEY: True, "original_length": original_length})


def _simple_default(obj: Any) -> Any:
    """Hook for the C encoder: convert one object it does not know, or raise TypeError."""
    converted = _convert_leaf(obj)
    if converted is not _UNKNOWN:
        return converted
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    return _describe(obj)


_UNKNOWN: Final = object()


def _convert_leaf(obj: Any) -> Any:
    """Convert the well-known non-JSON types; ``_UNKNOWN`` for anything else."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (uuid.UUID, Decimal, PurePath)):
        return str(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        raw = bytes(obj)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(raw)} bytes>"
    if isinstance(obj, BaseException):
        return {"type": type(obj).__name__, "message": _safe_str(obj)}
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and not isinstance(obj, type):
        return model_dump(mode="json")
    if hasattr(type(obj), "__dataclass_fields__") and not isinstance(obj, type):
        import dataclasses  # only once a dataclass shows up: keeps it off the import path

        return {field.name: getattr(obj, field.name, None) for field in dataclasses.fields(obj)}
    return _UNKNOWN


def _jsonable(value: Any, depth: int, budget: int, active: set[int]) -> Any:
    """Build a structure the encoder always accepts: bounded, acyclic, finite."""
    if value is None or isinstance(value, bool):
        return None if value is None else bool(value)
    if isinstance(value, int):
        # Python refuses to print ints of more than 4,300 digits.
        return int(value) if value.bit_length() < 10_000 else f"<int of {value.bit_length()} bits>"
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return str(value[:budget])
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    marker = id(value)
    if marker in active:
        return "<cycle>"
    active.add(marker)
    try:
        return _jsonable_container(value, depth, budget, active)
    finally:
        active.discard(marker)


def _jsonable_container(value: Any, depth: int, budget: int, active: set[int]) -> Any:
    try:
        converted = _convert_leaf(value)
    except Exception:  # noqa: BLE001 - a model_dump or property that raises
        converted = _describe(value)
    if converted is not _UNKNOWN:
        if converted is value:
            return _describe(value)
        return _jsonable(converted, depth + 1, budget, active)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        try:
            for index, (key, item) in enumerate(value.items()):
                if index >= _MAX_ITEMS:
                    out["..."] = f"{len(value) - _MAX_ITEMS} more items"
                    break
                out[_key(key)] = _jsonable(item, depth + 1, budget, active)
        except Exception:  # noqa: BLE001 - a mapping whose iteration raises
            return _describe(value)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items: list[Any] = []
        for index, item in enumerate(value):
            if index >= _MAX_ITEMS:
                items.append(f"... {len(value) - _MAX_ITEMS} more items")
                break
            items.append(_jsonable(item, depth + 1, budget, active))
        return items
    return _describe(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if isinstance(key, enum.Enum):
        return _safe_str(key.value)
    return _safe_str(key)


def _describe(obj: Any) -> str:
    """A short ``repr`` that cannot raise and cannot grow without bound."""
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - user __repr__ may do anything
        return f"<unrepresentable {type(obj).__name__}>"
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + "..."


def _safe_str(obj: Any) -> str:
    try:
        text = str(obj)
    except Exception:  # noqa: BLE001 - user __str__ may do anything
        return _describe(obj)
    return text if isinstance(text, str) else _describe(obj)


def _make_fast_encode() -> Callable[[Any], str]:
    """The fast path's encoder: compact, not ASCII-escaped, no NaN, ``_simple_default`` hook.

    ``JSONEncoder.encode`` rebuilds its C encoder and a closure on every call; making the C
    encoder directly saves a third of the time on the small values most spans hold. It still
    gets a fresh markers dict per call, so a cycle is an error here, never a deep recursion.
    Where the C encoder is missing or takes other arguments, ``JSONEncoder.encode`` serves.
    """
    encoder = json.JSONEncoder(
        default=_simple_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = json.encoder.encode_basestring
    if make is None:
        return encoder.encode

    def encode(value: Any, join: Callable[[Iterable[str]], str] = "".join) -> str:
        if isinstance(value, str):
            return quote(value)
        return join(make({}, _simple_default, quote, None, ":", ",", False, False, False)(value, 0))

    probe = {"a": [1, 2.5, None, True, "é"], "b": {"c": datetime.date(2026, 1, 2)}}
    try:
        if encode(probe) == encoder.encode(probe):
            return encode
    except Exception:  # noqa: BLE001 - another signature: the standard path serves
        pass
    return encoder.encode


_fast_encode = _make_fast_encode()
