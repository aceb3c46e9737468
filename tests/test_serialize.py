from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import uuid
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from traceroot.serialize import MIN_BUDGET, to_json, to_json_checked


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    when: datetime.date


def test_known_types() -> None:
    value = {
        "enum": Color.RED,
        "date": datetime.date(2026, 1, 2),
        "dt": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "uuid": uuid.UUID(int=1),
        "decimal": Decimal("1.50"),
        "path": PurePosixPath("/tmp/x"),
        "bytes": b"hello",
        "binary": b"\xff\xfe",
        "set": {3},
        "tuple": (1, 2),
        "point": Point(1, 2),
        "model": Model(name="m", when=datetime.date(2026, 5, 6)),
        "error": ValueError("bad"),
        "delta": datetime.timedelta(seconds=90),
    }
    assert json.loads(to_json(value)) == {
        "enum": "red",
        "date": "2026-01-02",
        "dt": "2026-01-02T03:04:05",
        "uuid": "00000000-0000-0000-0000-000000000001",
        "decimal": "1.50",
        "path": "/tmp/x",
        "bytes": "hello",
        "binary": "<2 bytes>",
        "set": [3],
        "tuple": [1, 2],
        "point": {"x": 1, "y": 2},
        "model": {"name": "m", "when": "2026-05-06"},
        "error": {"type": "ValueError", "message": "bad"},
        "delta": 90.0,
    }


def test_cycles_are_marked_not_lost() -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    items: list[Any] = [1]
    items.append(items)
    assert json.loads(to_json(cyclic)) == {"name": "loop", "self": "<cycle>"}
    assert json.loads(to_json(items)) == [1, "<cycle>"]


def test_shared_but_acyclic_references_are_kept() -> None:
    shared = {"k": 1}
    assert json.loads(to_json([shared, shared, {1: float("nan")}])) == [
        {"k": 1},
        {"k": 1},
        {"1": "nan"},
    ]


def test_hostile_objects() -> None:
    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

    class BadDump(pydantic.BaseModel):
        def model_dump(self, **kwargs: Any) -> Any:  # type: ignore[override]
            raise RuntimeError("boom")

    class BadItems(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("boom")

    result = json.loads(to_json({"repr": BadRepr(), "dump": BadDump(), "items": BadItems(a=1)}))
    assert result["repr"] == "<unrepresentable BadRepr>"
    assert result["dump"].startswith("BadDump")
    assert isinstance(result["items"], str)


def test_non_finite_floats_and_huge_ints() -> None:
    assert json.loads(to_json([math.inf, -math.inf, math.nan])) == ["inf", "-inf", "nan"]
    assert json.loads(to_json(10**5000)).startswith("<int of ")


def test_lone_surrogates_become_valid_utf8() -> None:
    text = to_json({"s": "a\ud800b"})
    text.encode("utf-8")
    assert json.loads(text) == {"s": "a\ud800b"}


def test_truncation_marks_and_records_length() -> None:
    text, truncated = to_json_checked({"data": "é" * 10_000}, budget=1_000)
    assert truncated
    assert len(text.encode("utf-8")) <= 1_000
    marker = json.loads(text)
    assert marker["truncated"] is True
    assert marker["original_length"] == len(
        json.dumps({"data": "é" * 10_000}, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert marker["preview"].startswith('{"data":"éé')


def test_within_budget_is_not_marked() -> None:
    assert to_json_checked("short", budget=1_000) == ('"short"', False)


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary(max_size=64)
    | st.datetimes()
    | st.uuids()
    | st.sampled_from(list(Color))
    | st.builds(Point, st.integers(), st.integers())
)
values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=8)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=8)
        | st.tuples(children, children)
        | st.frozensets(st.integers() | st.text(max_size=4), max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=values, budget=st.integers(min_value=MIN_BUDGET, max_value=4_096))
def test_always_valid_json_within_budget(value: Any, budget: int) -> None:
    text, truncated = to_json_checked(value, budget=budget)
    encoded = text.encode("utf-8")  # exportable: no lone surrogates
    assert len(encoded) <= budget
    parsed = json.loads(text)
    if truncated:
        assert parsed["truncated"] is True


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=0, max_size=5_000), budget=st.integers(min_value=0, max_value=2_000))
def test_any_string_and_any_budget(text: str, budget: int) -> None:
    result = to_json(text, budget=budget)
    assert len(result.encode("utf-8")) <= max(budget, MIN_BUDGET)
    json.loads(result)


# -- Objects without a JSON form: by their public fields ------------------------------------------


class Base:
    __slots__ = ("kind",)


class Slotted(Base):
    __slots__ = ("_secret", "name", "unset")

    def __init__(self, name: str) -> None:
        self.kind, self.name, self._secret = "slotted", name, "hidden"


class Plain:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)
        self._private = "hidden"


class OnlyPrivate:
    def __init__(self) -> None:
        self._state = 1

    def __repr__(self) -> str:
        return "OnlyPrivate(state=1)"


def test_objects_by_public_fields() -> None:
    import types

    value = {
        "namespace": types.SimpleNamespace(a=1, nested=types.SimpleNamespace(b=[Point(1, 2)])),
        "slots": Slotted("s"),  # inherited slots too; unset and private ones left out
        "plain": Plain(text="hi", score=0.5),
    }
    assert json.loads(to_json(value)) == {
        "namespace": {"a": 1, "nested": {"b": [{"x": 1, "y": 2}]}},
        "slots": {"kind": "slotted", "name": "s"},
        "plain": {"text": "hi", "score": 0.5},
    }


def test_repr_is_the_last_resort() -> None:
    assert json.loads(to_json([OnlyPrivate(), object, len])) == [
        "OnlyPrivate(state=1)",  # no public field
        repr(object),  # a class: its __dict__ is its code
        repr(len),
    ]
    assert json.loads(to_json(json)).startswith("<module 'json'")


def test_cyclic_objects_are_marked() -> None:
    parent = Plain(name="root", children=[])
    parent.children.append(Plain(name="leaf", parent=parent))
    assert json.loads(to_json(parent)) == {
        "name": "root",
        "children": [{"name": "leaf", "parent": "<cycle>"}],
    }


def test_object_graphs_are_bounded() -> None:
    from traceroot.serialize import _MAX_ITEMS, _MAX_OBJECTS

    chain = Plain(n=0)
    node = chain
    for index in range(1, 500):
        node.next = Plain(n=index)
        node = node.next
    text = to_json(chain, budget=1_000_000)
    depth, level = 0, json.loads(text)
    while isinstance(level, dict):
        depth, level = depth + 1, level.get("next")
    assert depth == _MAX_OBJECTS
    assert level == "<Plain>"  # past the bound: the type name, no repr
    holder = Plain(items=list(range(5_000)))
    items = json.loads(to_json(holder, budget=1_000_000))["items"]
    assert len(items) == _MAX_ITEMS + 1
    assert items[-1] == f"... {5_000 - _MAX_ITEMS} more items"


def test_objects_whose_attributes_raise_are_described() -> None:
    class Hostile:
        @property
        def __dict__(self) -> Any:  # type: ignore[override]
            raise RuntimeError("boom")

        def __repr__(self) -> str:
            return "Hostile()"

    assert json.loads(to_json({"h": Hostile()})) == {"h": "Hostile()"}


def test_langgraph_send_is_recorded_by_its_fields() -> None:
    import pytest

    types_module = pytest.importorskip("langgraph.types")
    send = types_module.Send("tools", {"messages": ["hi"], "step": 2})
    (recorded,) = json.loads(to_json([send]))
    assert recorded["node"] == "tools"
    assert recorded["arg"] == {"messages": ["hi"], "step": 2}


object_leaves = json_leaves | st.builds(
    Plain, text=st.text(max_size=8), n=st.integers() | st.floats(allow_nan=False)
)
object_values = st.recursive(
    object_leaves,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(max_size=8), children, max_size=6)
        | st.builds(Plain, child=children, other=children)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=object_values)
def test_objects_fast_path_matches_the_careful_path(value: Any) -> None:
    """The C encoder's object hook records what the careful pure-Python walk records."""
    from traceroot.serialize import _jsonable, _objects_encode, _Walk

    careful = json.loads(json.dumps(_jsonable(value, 0, 10**9, _Walk())))
    try:
        fast = json.loads(_objects_encode(value))
    except ValueError:  # what the fast path refuses (NaN, odd keys) is the careful path's anyway
        return
    assert fast == careful


# -- Inputs and outputs: a string as itself ----------------------------------------------------


def test_text_form_keeps_strings_as_written() -> None:
    from traceroot.serialize import to_text_checked

    assert to_text_checked("plain answer") == ("plain answer", False)
    assert to_text_checked('{"a": 1}') == ('{"a": 1}', False)
    assert to_text_checked({"a": "b"}) == ('{"a":"b"}', False)  # anything else: JSON
    assert to_text_checked(7) == ("7", False)


def test_text_form_redacts_like_the_json_form() -> None:
    from traceroot.serialize import to_text_checked

    text = 'Authorization: Bearer abc123def456ghi789 and {"password": "pw"}'
    plain, _ = to_text_checked(text)
    assert plain == json.loads(to_json(text))
    assert "abc123def456ghi789" not in plain
    embedded, _ = to_text_checked('{"password": "hunter2", "user": "ada"}')
    assert json.loads(embedded) == {"password": "[REDACTED]", "user": "ada"}


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=3_000), budget=st.integers(min_value=0, max_value=2_000))
def test_text_form_of_any_string_within_any_budget(text: str, budget: int) -> None:
    from traceroot.serialize import exportable, to_text_checked

    result, truncated = to_text_checked(text, budget=budget)
    assert len(result.encode("utf-8")) <= max(budget, MIN_BUDGET)
    if truncated:
        marker = json.loads(result)
        assert marker["truncated"] is True
        assert exportable(text).startswith(marker["preview"]) or "[REDACTED]" in result
    else:
        assert result == exportable(text) or "[REDACTED]" in result
