"""Turn any Python value into JSON text that fits an attribute budget, without ever raising.

Secrets are taken out of the text (:func:`traceroot.secrets.scrub`) before it is measured, so
whatever the value, and whether or not it is cut, no secret of it is in the result.

The common case (dicts, lists, strings, numbers) goes straight through the C encoder. An object
with no JSON form of its own (a ``SimpleNamespace``, a plain class, a class with ``__slots__``) is
recorded by its public fields, as a user reads it, by its ``repr`` only when it has none; such a
value takes the C encoder again, with a hook that bounds how many objects and items it expands.
Anything the encoder refuses (cycles, NaN, odd keys, objects whose hooks raise) takes a careful
pure-Python path that bounds depth and item counts. Text over the budget becomes a small JSON
object that says so: ``{"truncated": true, "original_length": <bytes>, "preview": "<start of the
text>"}``.

:func:`to_text_checked` is the form for inputs and outputs, which users read: a string there is its
own text (``plain answer``), not a JSON string (``"plain answer"``).
"""

from __future__ import annotations

import datetime
import enum
import itertools
import json
import math
import sys
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from traceroot import secrets

DEFAULT_BUDGET: Final = 32 * 1024
MIN_BUDGET: Final = 256
_MAX_DEPTH: Final = 32
_MAX_ITEMS: Final = 1_000
_REPR_LIMIT: Final = 1_000
# Objects recorded by their fields in one value; past this many, each by its type name only. With
# the item bound below, it keeps a big object graph (a client, an index) from costing the call
# more than its recorded text is worth.
_MAX_OBJECTS: Final = 100
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
        try:
            text = _fast_encode(value)
        except _ObjectsInsideError:
            text = _objects_encode(value)
        if not text.isascii():
            text.encode(
                "utf-8"
            )  # lone surrogates cannot be exported: the careful path escapes them
    except Exception:  # noqa: BLE001 - any failure of the fast path falls back to the careful one
        text = _encode_safely(_jsonable(value, 0, budget, _Walk()))
    # Before any truncation: a preview must not show what the whole text would hide.
    text = secrets.scrub(text)
    size = len(text) if len(text) * 4 <= budget else len(text.encode("utf-8"))
    if size <= budget:
        return text, False
    return _truncate(text, budget, original_length=size), True


def to_text_checked(value: Any, *, budget: int = DEFAULT_BUDGET) -> tuple[str, bool]:
    """Like :func:`to_json_checked`, but a string is its own text, not a JSON string: the form for
    inputs and outputs, which users read. Secrets are taken out of it just the same; a string over
    the budget is marked in JSON like any other value, its preview the start of the plain text.

    >>> to_text_checked("plain answer")
    ('plain answer', False)
    """
    if not isinstance(value, str):
        return to_json_checked(value, budget=budget)
    budget = max(budget, MIN_BUDGET)
    # Only the start of a huge string can survive; scanned for secrets a little past the cut.
    cut = len(value) > budget
    text = _scrubbed_text(exportable(value[: budget + _SCAN_PAST_CUT] if cut else value))
    size = len(text) if len(text) * 4 <= budget else len(text.encode("utf-8"))
    if not cut and size <= budget:
        return text, False
    original = len(value.encode("utf-8", "replace")) if cut else size
    return _truncate(text, budget, original_length=original), True


def _scrubbed_text(text: str) -> str:
    """``text`` without secrets, found as they are in its JSON form (a JSON document inside the
    string, redacted by key, included); decoded back only when something was taken out."""
    quoted = _quote(text)
    scrubbed = secrets.scrub(quoted)
    if scrubbed == quoted:
        return text
    try:
        found = json.loads(scrubbed)
    except ValueError:  # never seen: scrub keeps a JSON string a JSON string
        return scrubbed
    return found if isinstance(found, str) else scrubbed


def _encode_safely(value: Any) -> str:
    try:
        text = _encode(value)
        text.encode("utf-8")
        return text
    except Exception:  # noqa: BLE001 - surrogates or a NaN hidden in a str subclass
        return json.dumps(_jsonable(value, 0, DEFAULT_BUDGET, _Walk()), ensure_ascii=True)


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


class _ObjectsInsideError(TypeError):
    """The value holds an object known only by its fields or its ``repr``."""


def _known(obj: Any) -> Any:
    """The JSON form of a type the encoder does not know but traceroot does; ``_UNKNOWN`` for an
    object that has none."""
    converted = _convert_leaf(obj)
    if converted is not _UNKNOWN:
        return converted
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    return _UNKNOWN


def _simple_default(obj: Any) -> Any:
    """Hook for the C encoder on the common path: convert one object it does not know. An object
    with no JSON form hands the value to :class:`_ObjectDefault`, which counts what it expands:
    this hook keeps no count, so that values without such objects pay nothing for one."""
    converted = _known(obj)
    if converted is _UNKNOWN:
        raise _ObjectsInsideError
    return converted


class _ObjectDefault:
    """Hook for the C encoder on a value that holds objects with no JSON form: each by its public
    fields (at most ``_MAX_OBJECTS`` of them, each container in a field to ``_MAX_ITEMS`` items),
    an object without any by its ``repr``, past the bound by its type name."""

    __slots__ = ("objects_left",)

    def __init__(self) -> None:
        self.objects_left = _MAX_OBJECTS

    def __call__(self, obj: Any) -> Any:
        converted = _known(obj)
        if converted is not _UNKNOWN:
            return converted
        fields = public_fields(obj)
        if fields is None:
            return _describe(obj)
        if self.objects_left <= 0:
            return _type_name(obj)
        self.objects_left -= 1
        for name, item in fields.items():
            if isinstance(item, (list, tuple, set, frozenset, dict)) and len(item) > _MAX_ITEMS:
                fields[name] = _first_items(item)
        return fields


_UNKNOWN: Final = object()
_MISSING: Final = object()
# The public slot names of each class seen (an app records the same few classes over and over).
_slot_names: dict[type, tuple[str, ...]] = {}
_SLOT_CLASSES_LIMIT: Final = 1_024


def public_fields(obj: Any) -> dict[str, Any] | None:
    """An object's public fields, from its ``__slots__`` and ``__dict__`` (names not starting with
    ``_``), as a new dict; ``None`` for an object without any, and for classes and modules, whose
    ``__dict__`` is their code. Read from the instance's own storage: no property is called."""
    if isinstance(obj, (type, types.ModuleType)):
        return None
    fields: dict[str, Any] = {}
    for name in _public_slots(type(obj)):
        value = getattr(obj, name, _MISSING)  # an unset slot is no field
        if value is not _MISSING:
            fields[name] = value
    attributes = getattr(obj, "__dict__", None)
    if type(attributes) is dict:
        for name, value in attributes.items():
            if type(name) is str and not name.startswith("_"):
                fields[name] = value
                if len(fields) > _MAX_ITEMS:
                    fields.popitem()
                    public = sum(1 for key in attributes if not str(key).startswith("_"))
                    fields["..."] = f"{public - _MAX_ITEMS} more fields"
                    break
    return fields or None


def _public_slots(kind: type) -> tuple[str, ...]:
    names = _slot_names.get(kind)
    if names is None:
        found: dict[str, None] = {}
        for klass in kind.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if isinstance(name, str) and not name.startswith("_"):
                    found[name] = None
        names = tuple(found)
        if len(_slot_names) >= _SLOT_CLASSES_LIMIT:
            _slot_names.clear()  # unbounded class sets (classes made at run time): start over
        _slot_names[kind] = names
    return names


def _first_items(items: Any) -> Any:
    """A container in an object's field cut to ``_MAX_ITEMS`` items, saying how many were left."""
    left = f"{len(items) - _MAX_ITEMS} more items"
    if isinstance(items, dict):
        first = dict(itertools.islice(items.items(), _MAX_ITEMS))
        first["..."] = left
        return first
    return [*itertools.islice(items, _MAX_ITEMS), f"... {left}"]


def _type_name(obj: Any) -> str:
    return f"<{type(obj).__name__}>"


def _convert_leaf(obj: Any) -> Any:
    """Convert the well-known non-JSON types; ``_UNKNOWN`` for anything else."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, uuid.UUID) or is_decimal_or_path(obj):
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


def is_decimal_or_path(obj: Any) -> bool:
    # Looked up where the app imported them: no value of their types exists otherwise, and
    # importing decimal and pathlib for these checks alone cost start-up 3-6 ms.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(obj, decimal.Decimal):
        return True
    pathlib = sys.modules.get("pathlib")
    return pathlib is not None and isinstance(obj, pathlib.PurePath)


class _Walk:
    """One careful walk's state: the containers on the path (to mark cycles) and how many more
    objects may be recorded by their fields."""

    __slots__ = ("active", "objects_left")

    def __init__(self) -> None:
        self.active: set[int] = set()
        self.objects_left = _MAX_OBJECTS


def _jsonable(value: Any, depth: int, budget: int, walk: _Walk) -> Any:
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
    if marker in walk.active:
        return "<cycle>"
    walk.active.add(marker)
    try:
        return _jsonable_container(value, depth, budget, walk)
    finally:
        walk.active.discard(marker)


def _jsonable_container(value: Any, depth: int, budget: int, walk: _Walk) -> Any:
    try:
        converted = _convert_leaf(value)
    except Exception:  # noqa: BLE001 - a model_dump or property that raises
        converted = _describe(value)
    if converted is not _UNKNOWN:
        if converted is value:
            return _describe(value)
        return _jsonable(converted, depth + 1, budget, walk)
    if isinstance(value, Mapping):
        return _jsonable_items(value, depth, budget, walk)
    if isinstance(value, (list, tuple, set, frozenset)):
        items: list[Any] = []
        for index, item in enumerate(value):
            if index >= _MAX_ITEMS:
                items.append(f"... {len(value) - _MAX_ITEMS} more items")
                break
            items.append(_jsonable(item, depth + 1, budget, walk))
        return items
    try:
        fields = public_fields(value)
    except Exception:  # noqa: BLE001 - a __dict__ or slot that raises
        fields = None
    if fields is None:
        return _describe(value)
    if walk.objects_left <= 0:
        return _type_name(value)
    walk.objects_left -= 1
    return _jsonable_items(fields, depth, budget, walk)


def _jsonable_items(value: Mapping[Any, Any], depth: int, budget: int, walk: _Walk) -> Any:
    out: dict[str, Any] = {}
    try:
        for index, (key, item) in enumerate(value.items()):
            if index >= _MAX_ITEMS:
                out["..."] = f"{len(value) - _MAX_ITEMS} more items"
                break
            out[_key(key)] = _jsonable(item, depth + 1, budget, walk)
    except Exception:  # noqa: BLE001 - a mapping whose iteration raises
        return _describe(value)
    return out


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


def _make_encoders() -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    """The fast path's encoders: compact, not ASCII-escaped, no NaN; the first with the
    ``_simple_default`` hook, the second with a fresh :class:`_ObjectDefault` per value.

    ``JSONEncoder.encode`` rebuilds its C encoder and a closure on every call; making the C
    encoder directly saves a third of the time on the small values most spans hold. It still
    gets a fresh markers dict per call, so a cycle is an error here, never a deep recursion.
    Where the C encoder is missing or takes other arguments, ``JSONEncoder.encode`` serves.
    """

    def standard(value: Any, default: Callable[[Any], Any]) -> str:
        return json.JSONEncoder(
            default=default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode(value)

    make = getattr(json.encoder, "c_make_encoder", None)

    def fast(value: Any, join: Callable[[Iterable[str]], str] = "".join) -> str:
        if isinstance(value, str):
            return _quote(value)
        return join(
            make({}, _simple_default, _quote, None, ":", ",", False, False, False)(value, 0)  # type: ignore[misc]
        )

    def objects(value: Any, join: Callable[[Iterable[str]], str] = "".join) -> str:
        default = _ObjectDefault()
        return join(make({}, default, _quote, None, ":", ",", False, False, False)(value, 0))  # type: ignore[misc]

    if make is not None:
        probe = {"a": [1, 2.5, None, True, "é"], "b": {"c": datetime.date(2026, 1, 2)}}
        try:
            if fast(probe) == standard(probe, _simple_default) == objects(probe):
                return fast, objects
        except Exception:  # noqa: BLE001 - another signature: the standard path serves
            pass
    return (
        lambda value: standard(value, _simple_default),
        lambda value: standard(value, _ObjectDefault()),
    )


_quote: Final = json.encoder.encode_basestring
_fast_encode, _objects_encode = _make_encoders()
