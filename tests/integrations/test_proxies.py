"""The plain-class stand-in the stream proxies are built on: to a caller it is the wrapped object."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from traceroot.integrations.proxies import StandIn


class Stream:
    def __init__(self) -> None:
        self.response = "http response"
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Watched(StandIn):
    __slots__ = ("_self_seen",)

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._self_seen: list[str] = []

    def close(self) -> None:
        self._self_seen.append("close")
        self.__wrapped__.close()


def test_a_stand_in_reads_as_the_wrapped_object() -> None:
    stream = Stream()
    proxy = Watched(stream)
    assert isinstance(proxy, Stream)
    assert proxy.__class__ is Stream
    assert type(proxy) is Watched  # the proxy itself, for whoever needs to know
    assert proxy.response == "http response"
    assert repr(proxy) == repr(stream)
    assert "close" in dir(proxy)


def test_its_own_methods_and_fields_stay_its_own_and_the_rest_reaches_the_wrapped() -> None:
    stream = Stream()
    proxy = Watched(stream)
    proxy.close()
    assert proxy._self_seen == ["close"]
    assert stream.closed
    assert not hasattr(stream, "_self_seen")
    proxy.extra = 1  # type: ignore[attr-defined]
    assert stream.extra == 1  # type: ignore[attr-defined]
    del proxy.extra  # type: ignore[attr-defined]
    assert not hasattr(stream, "extra")


def test_a_stand_in_can_be_weakly_referenced_and_collected() -> None:
    proxy = Watched(Stream())
    reference = weakref.ref(proxy)
    del proxy
    gc.collect()
    assert reference() is None


def test_a_stand_in_whose_init_failed_is_missing_its_fields_not_recursing() -> None:
    import copy

    import pytest

    unset = Watched.__new__(Watched)
    assert not hasattr(unset, "anything")
    assert not hasattr(unset, "_self_seen")
    proxy = Watched(Stream())
    with pytest.raises(NotImplementedError):
        copy.copy(proxy)
    with pytest.raises(NotImplementedError):
        copy.deepcopy(proxy)
