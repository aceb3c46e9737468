"""``@observe`` where it is easy to get wrong: on class members, on closed coroutines and
generators, with a name that is not a str, with arguments whose ``repr`` is slow or huge."""

from __future__ import annotations

import datetime
import json
import logging
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from traceroot import observe, semconv

from .conftest import Spans


class Account:
    rate = 2

    def __init__(self) -> None:
        self._balance = 10

    @observe
    @classmethod
    def interest(cls, amount: int) -> int:
        return amount * cls.rate

    @observe(name="account.convert")
    @staticmethod
    def convert(amount: int) -> int:
        return amount * 100

    @observe
    @property
    def balance(self) -> int:
        return self._balance

    @balance.setter
    def balance(self, value: int) -> None:
        self._balance = value


def _member_results() -> dict[str, Any]:
    account = Account()
    account.balance = 7  # the setter survives the decoration
    return {
        "class": Account.interest(3),
        "instance_class": account.interest(4),
        "static": Account.convert(2),
        "instance_static": account.convert(1),
        "property": account.balance,
        "is_property": isinstance(vars(Account)["balance"], property),
    }


def test_observe_above_classmethod_staticmethod_property(spans: Spans) -> None:
    results = _member_results()
    assert results == {
        "class": 6,
        "instance_class": 8,
        "static": 200,
        "instance_static": 100,
        "property": 7,
        "is_property": True,
    }
    interest = spans.named("interest")
    assert [json.loads(span.attributes[semconv.SPAN_INPUT]) for span in interest] == [
        {"amount": 3},
        {"amount": 4},
    ]  # ``cls`` is not an input
    assert [span.attributes[semconv.SPAN_OUTPUT] for span in interest] == ["6", "8"]
    assert len(spans.named("account.convert")) == 2
    assert spans.one("balance").attributes[semconv.SPAN_OUTPUT] == "7"


def test_members_still_work_when_tracing_is_off(spans: Spans, settings_override: Any) -> None:
    settings_override(enabled=False)
    assert _member_results()["property"] == 7
    assert _member_results() == {
        "class": 6,
        "instance_class": 8,
        "static": 200,
        "instance_static": 100,
        "property": 7,
        "is_property": True,
    }
    assert spans.all() == []


def test_coroutine_closed_mid_await_is_not_an_error(spans: Spans) -> None:
    @types.coroutine
    def suspend() -> Iterator[None]:
        yield  # as an awaited future does, until the event loop resumes it

    @observe
    async def waits() -> None:
        await suspend()

    coroutine = waits()
    coroutine.send(None)  # now suspended inside the sleep
    coroutine.close()
    span = spans.one("waits")
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert [event.name for event in span.events] == []


def test_generator_closed_early_is_not_an_error(spans: Spans) -> None:
    @observe
    def numbers() -> Iterator[int]:
        yield 1
        yield 2

    @observe
    def closes_itself() -> Iterator[int]:
        try:
            yield 1
        finally:
            pass

    first = numbers()
    assert next(first) == 1
    first.close()
    second = closes_itself()
    next(second)
    del second
    for name in ("numbers", "closes_itself"):
        span = spans.one(name)
        assert span.status.status_code is StatusCode.UNSET, name
        assert semconv.ERROR_TYPE not in span.attributes
    assert spans.one("numbers").attributes[semconv.SPAN_OUTPUT] == "[1]"


def test_a_name_that_is_not_a_str_keeps_the_span(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    @observe(name=123)  # type: ignore[call-overload]
    def numbered() -> int:
        return 1

    with caplog.at_level(logging.WARNING, logger="traceroot"):
        assert numbered() == 1
        assert numbered() == 1
    assert len(spans.named("123")) == 2
    warnings = [r.getMessage() for r in caplog.records if "span name must be a str" in r.message]
    assert len(warnings) <= 1  # once per process: the decoration may have warned already


class SlowRepr:
    calls = 0

    def __repr__(self) -> str:
        SlowRepr.calls += 1
        time.sleep(0.5)
        return "x" * 10_000_000


def test_argument_reprs_are_not_run_on_the_call_path(spans: Spans) -> None:
    @observe
    def handle(request: Any, items: list[Any], options: dict[str, Any]) -> str:
        return "ok"

    SlowRepr.calls = 0
    started = time.perf_counter()
    for _ in range(5):
        handle(SlowRepr(), [1, SlowRepr()], {"nested": {"deep": SlowRepr()}, "n": 1})
    elapsed = time.perf_counter() - started
    assert SlowRepr.calls == 0
    assert elapsed < 1.0
    recorded = [json.loads(span.attributes[semconv.SPAN_INPUT]) for span in spans.named("handle")]
    assert (
        recorded
        == [
            {
                "request": "<SlowRepr>",
                "items": [1, "<SlowRepr>"],
                "options": {"nested": {"deep": "<SlowRepr>"}, "n": 1},
            }
        ]
        * 5
    )


class Label(str):
    def __repr__(self) -> str:
        raise AssertionError("not called: a str subclass is recorded as its text")


def test_known_values_are_still_recorded_in_full(spans: Spans) -> None:
    @observe
    def tag(label: str, when: Any, pair: tuple[int, int]) -> None:
        return None

    tag(Label("urgent"), datetime.date(2026, 1, 2), (1, 2))
    assert json.loads(spans.one("tag").attributes[semconv.SPAN_INPUT]) == {
        "label": "urgent",
        "when": "2026-01-02",
        "pair": [1, 2],
    }
