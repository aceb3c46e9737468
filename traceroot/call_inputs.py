"""A call's arguments made safe to record on the call path: no user ``__repr__`` runs there.

The serializer describes an object it knows nothing about by its ``repr``, which is fine for
return values but not for arguments: ``@observe`` records them on every call, before the function
runs, and a ``__repr__`` written in Python can take any time and build any size (a 2 s repr would
add 2 s to each call). Such objects are recorded as ``"<TypeName>"`` instead. Values the
serializer converts without ``repr`` (plain data, enums, dates, paths, dataclasses, pydantic
models, exceptions, objects with public attributes, which it records by them) are left as they are.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import types
import uuid
from collections.abc import Mapping
from typing import Any, Final

from traceroot.serialize import is_decimal_or_path, public_fields

# Deeper than the serializer goes (it stops at 32 levels), so nothing below is left unchecked.
_MAX_DEPTH: Final = 33
_MAX_ITEMS: Final = 1_000
_PLAIN: Final = (str, int, float, bool, type(None))
_PLAIN_TYPES: Final = frozenset(_PLAIN)
_CONVERTED: Final = (
    enum.Enum,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    bytes,
    bytearray,
    memoryview,
    BaseException,
)


def without_user_reprs(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with every object whose ``repr`` is user code replaced by its type name."""
    safe = _safe
    return {name: safe(value, 0) for name, value in arguments.items()}


def _safe(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    if kind is dict:
        return _safe_mapping(value, depth)
    if isinstance(value, (str, int, float)):  # subclasses: encoded as their base, no repr
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return _safe_items(value, depth)
    if isinstance(value, Mapping):
        return _safe_mapping(value, depth)
    if isinstance(value, _CONVERTED) or is_decimal_or_path(value) or _converted_by_fields(value):
        return value
    if isinstance(getattr(kind, "__repr__", None), types.FunctionType) and not _has_fields(value):
        return f"<{kind.__name__}>"
    return value


def _has_fields(value: Any) -> bool:
    """Whether the serializer records ``value`` by its public attributes rather than its repr.
    (Their values are not checked here, as for dataclasses: an attribute holding an object with
    neither fields nor a repr of C's is rare enough.)"""
    try:
        return public_fields(value) is not None
    except Exception:  # noqa: BLE001 - a __dict__ that raises: the type name serves
        return False


def _converted_by_fields(value: Any) -> bool:
    """Dataclasses and pydantic models: the serializer records their fields, not their repr.
    (Their fields are not checked here; a field holding such an object is rare enough.)"""
    kind = type(value)
    if isinstance(value, type):
        return False
    return hasattr(kind, "__dataclass_fields__") or callable(getattr(kind, "model_dump", None))


def _safe_items(value: Any, depth: int) -> Any:
    # Copied only once something in it changes: plain data (the common case) is returned as is.
    items: list[Any] | None = None
    for index, item in enumerate(value):
        if index >= _MAX_ITEMS:
            # The serializer records no more than this many items either.
            items = items if items is not None else list(itertools.islice(value, index))
            items.append(f"... {len(value) - _MAX_ITEMS} more items")
            break
        safe = _safe(item, depth + 1)
        if items is None:
            if safe is item:
                continue
            items = list(itertools.islice(value, index))
        items.append(safe)
    return value if items is None else items


def _safe_key(key: Any) -> Any:
    kind = type(key)
    if kind in _PLAIN or not isinstance(getattr(kind, "__repr__", None), types.FunctionType):
        return key
    if isinstance(key, _CONVERTED) or _converted_by_fields(key):
        return key
    return f"<{kind.__name__}>"


def _safe_mapping(value: Mapping[Any, Any], depth: int) -> Any:
    out: dict[Any, Any] | None = None
    try:
        for index, (key, item) in enumerate(value.items()):
            if index >= _MAX_ITEMS:
                out = out if out is not None else dict(itertools.islice(value.items(), index))
                out["..."] = f"{len(value) - _MAX_ITEMS} more items"
                break
            safe_key = key if type(key) is str else _safe_key(key)
            safe = _safe(item, depth + 1)
            if out is None:
                if safe is item and safe_key is key:
                    continue
                out = dict(itertools.islice(value.items(), index))
            out[safe_key] = safe
    except Exception:  # noqa: BLE001 - a mapping whose iteration raises: the type name serves
        return f"<{type(value).__name__}>"
    return value if out is None else out
