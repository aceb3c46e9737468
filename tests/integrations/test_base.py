"""The patching contract on a module made for the test: what is wrapped, and exact restoration."""

from __future__ import annotations

import asyncio
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from traceroot.integrations import imports
from traceroot.integrations.base import BaseIntegration, PatchTarget

CALLS: list[tuple[str, Any, tuple[Any, ...]]] = []


def recording(label: str) -> Any:
    def factory(integration: BaseIntegration) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            CALLS.append((label, instance, args))
            return wrapped(*args, **kwargs)

        return wrapper

    return factory


def make_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    source = """
class Base:
    def inherited(self, x):
        return ("inherited", x)

class Client(Base):
    def method(self, x):
        return ("method", self.tag, x)
    async def amethod(self, x):
        return ("amethod", x)
    def gen(self, n):
        yield from range(n)
    @staticmethod
    def static(x):
        return ("static", x)
    @classmethod
    def klass(cls, x):
        return ("klass", cls.__name__, x)
    def __init__(self):
        self.tag = "t"

def function(x, y=1):
    return ("function", x, y)
"""
    exec(compile(source, name, "exec"), module.__dict__)
    return module


@pytest.fixture
def toy_module() -> Iterator[types.ModuleType]:
    module = make_module("traceroot_test_toy")
    sys.modules[module.__name__] = module
    CALLS.clear()
    yield module
    del sys.modules[module.__name__]


def integration_for(module_name: str) -> BaseIntegration:
    class Toy(BaseIntegration):
        name = "toy_test"
        modules = (module_name,)
        targets = tuple(
            PatchTarget(module_name, path, recording(path))
            for path in (
                "Client.method",
                "Client.amethod",
                "Client.gen",
                "Client.static",
                "Client.klass",
                "Client.inherited",
                "function",
            )
        )

    return Toy()


def test_wrappers_see_instance_and_args_and_keep_behaviour(toy_module: types.ModuleType) -> None:
    integration = integration_for(toy_module.__name__)
    integration.instrument()
    client = toy_module.Client()
    assert client.method(1) == ("method", "t", 1)
    assert asyncio.run(client.amethod(2)) == ("amethod", 2)
    assert list(client.gen(3)) == [0, 1, 2]
    assert toy_module.Client.static(4) == ("static", 4)
    assert client.static(4) == ("static", 4)
    assert toy_module.Client.klass(5) == ("klass", "Client", 5)
    assert client.inherited(6) == ("inherited", 6)
    assert toy_module.function(7, y=8) == ("function", 7, 8)
    labels = [label for label, _, _ in CALLS]
    assert labels == [
        "Client.method",
        "Client.amethod",
        "Client.gen",
        "Client.static",
        "Client.static",
        "Client.klass",
        "Client.inherited",
        "function",
    ]
    assert CALLS[0][1] is client
    assert CALLS[0][2] == (1,)
    assert CALLS[-1][1] is None


def test_inspection_keeps_seeing_the_original_kind(toy_module: types.ModuleType) -> None:
    integration = integration_for(toy_module.__name__)
    integration.instrument()
    client = toy_module.Client()
    assert inspect.iscoroutinefunction(client.amethod)
    assert inspect.isgeneratorfunction(client.gen)
    assert inspect.signature(toy_module.function).parameters.keys() == {"x", "y"}
    assert toy_module.function.__name__ == "function"


def test_uninstrument_restores_exactly(toy_module: types.ModuleType) -> None:
    before = dict(vars(toy_module.Client))
    base_before = dict(vars(toy_module.Base))
    function = toy_module.function
    integration = integration_for(toy_module.__name__)
    integration.instrument()
    assert vars(toy_module.Client)["method"] is not before["method"]
    integration.uninstrument()
    for name, value in before.items():
        assert vars(toy_module.Client)[name] is value, name
    assert "inherited" not in vars(toy_module.Client)  # the shadowing copy is gone
    assert dict(vars(toy_module.Base)) == base_before
    assert toy_module.function is function


def test_instrument_is_idempotent(toy_module: types.ModuleType) -> None:
    integration = integration_for(toy_module.__name__)
    integration.instrument()
    integration.instrument()
    toy_module.function(1)
    assert [label for label, _, _ in CALLS] == ["function"]


def test_failed_target_restores_what_was_wrapped(toy_module: types.ModuleType) -> None:
    class Half(BaseIntegration):
        name = "half"
        modules = (toy_module.__name__,)
        targets = (
            PatchTarget(toy_module.__name__, "function", recording("function")),
            PatchTarget(toy_module.__name__, "Client.missing", recording("missing")),
        )

    function = toy_module.function
    with pytest.raises(AttributeError):
        Half().instrument()
    assert toy_module.function is function


def test_target_in_a_module_not_yet_imported_waits_for_it() -> None:
    name = "traceroot_test_later"
    integration = integration_for(name)
    integration.instrument()
    assert name in imports.pending()

    module = make_module(name)
    # Simulate the import system finishing the module: the finder fires the hooks.
    sys.modules[name] = module
    try:
        imports._fire(name, module)
        assert hasattr(module.function, "__wrapped__")
        integration.uninstrument()
        assert not hasattr(module.function, "__wrapped__")
        assert name not in imports.pending()
    finally:
        del sys.modules[name]


def test_a_replacing_target_is_called_directly_and_restored(toy_module: types.ModuleType) -> None:
    original = toy_module.function
    made: list[Any] = []

    def replacer(integration: BaseIntegration) -> Any:
        def replace(function: Any) -> Any:
            def replacement(x: Any, y: Any = 1) -> Any:
                return ("replaced", *function(x, y=y))

            made.append(replacement)
            return replacement

        return replace

    class Replacing(BaseIntegration):
        name = "toy_replacing"
        modules = (toy_module.__name__,)
        targets = (PatchTarget(toy_module.__name__, "function", replacer, replaces=True),)

    integration = Replacing()
    integration.instrument()
    assert toy_module.function is made[0]  # no wrapper around the replacement
    assert toy_module.function(2, y=3) == ("replaced", "function", 2, 3)
    integration.uninstrument()
    assert toy_module.function is original


class _Overriding(BaseIntegration):
    name = "toy_overrides"
    modules = ("traceroot_test_toy",)
    targets = (
        PatchTarget("traceroot_test_toy", "Base.inherited", recording("ours"), overrides=True),
    )


def _other_patch(function: Any) -> Any:
    """Another instrumentation's patch: a wrapper that marks what it wraps, as wrapt and
    functools.wraps do."""

    def patched(self: Any, x: Any) -> Any:
        CALLS.append(("other", self, (x,)))
        return function(self, x)

    patched.__wrapped__ = function  # type: ignore[attr-defined]
    return patched


def test_a_subclass_override_made_first_is_wrapped_too(toy_module: types.ModuleType) -> None:
    # Another instrumentation patched the subclass before traceroot came: its patch calls the
    # original it saw, not traceroot's wrapper on the base class.
    other = _other_patch(toy_module.Base.inherited)
    toy_module.Client.inherited = other
    integration = _Overriding()
    integration.instrument()
    try:
        assert toy_module.Client().inherited(1) == ("inherited", 1)
        assert [label for label, _, _ in CALLS] == ["ours", "other"]
        assert integration.bypassed() == []
    finally:
        integration.uninstrument()
    assert vars(toy_module.Client)["inherited"] is other  # the other patch is back, as it was


def test_a_later_patch_that_skips_traceroots_is_reported_bypassed(
    toy_module: types.ModuleType,
) -> None:
    integration = _Overriding()
    integration.instrument()
    try:
        # Wrapping what the class resolves to now (traceroot's wrapper) keeps it in the chain.
        toy_module.Client.inherited = _other_patch(toy_module.Client.inherited)
        assert integration.bypassed() == []
        # Replacing it with the unpatched original does not.
        original = vars(toy_module.Base)["inherited"].__wrapped__
        toy_module.Client.inherited = _other_patch(original)
        assert integration.bypassed() == ["traceroot_test_toy.Client.inherited"]
        CALLS.clear()
        toy_module.Client().inherited(2)
        assert [label for label, _, _ in CALLS] == ["other"]
    finally:
        integration.uninstrument()
        del toy_module.Client.inherited


def test_a_subclass_method_calling_super_is_neither_wrapped_twice_nor_bypassed(
    toy_module: types.ModuleType,
) -> None:
    def inherited(self: Any, x: Any) -> Any:  # the user's own override
        return super(toy_module.Client, self).inherited(x)

    toy_module.Client.inherited = inherited
    integration = _Overriding()
    integration.instrument()
    try:
        assert toy_module.Client().inherited(3) == ("inherited", 3)
        assert [label for label, _, _ in CALLS] == ["ours"]  # once, from the base class
        assert vars(toy_module.Client)["inherited"] is inherited
        assert integration.bypassed() == []
    finally:
        integration.uninstrument()
        del toy_module.Client.inherited


def test_uninstrument_leaves_what_another_instrumentation_put_back(
    toy_module: types.ModuleType,
) -> None:
    # The other instrumentation patched first, traceroot wrapped its patch, then the other one
    # uninstrumented, putting back the original it saw.
    original = vars(toy_module.Base)["inherited"]
    toy_module.Client.inherited = _other_patch(original)
    integration = _Overriding()
    integration.instrument()
    toy_module.Client.inherited = original
    assert integration.bypassed() == ["traceroot_test_toy.Client.inherited"]
    integration.uninstrument()
    # Not its stale patch back: what it chose stays.
    assert vars(toy_module.Client)["inherited"] is original
    assert vars(toy_module.Base)["inherited"] is original
    del toy_module.Client.inherited
