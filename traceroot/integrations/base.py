"""The contract every integration fulfils, built-in or third-party.

An integration is a class registered under the entry-point group ``traceroot.integrations``; the
entry-point name is its toggle key. It declares the modules whose import triggers it, the
distribution and version range it supports, and its patch targets as data. The default
``instrument``/``uninstrument`` loop over the same targets, so what one patches the other restores
exactly (``is`` the original afterwards). Integrations that hook a framework's own extension point
instead of patching (a callback manager, a dispatcher) override the two methods.

A wrapper factory takes the integration instance and returns a ``(wrapped, instance, args,
kwargs)`` wrapper, the wrapt convention::

    class ToyIntegration(BaseIntegration):
        name = "toy"
        modules = ("toy_framework",)
        distribution = "toy-framework"
        supported = ">=1.0,<3"
        targets = (PatchTarget("toy_framework", "Client.call", "toy_plugin.wrappers:client_call"),)
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, ClassVar, Final, NamedTuple

from traceroot.integrations import imports

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
WrapperFactory = Callable[["BaseIntegration"], Wrapper]
Replacer = Callable[[Callable[..., Any]], Callable[..., Any]]
ReplacerFactory = Callable[["BaseIntegration"], Replacer]


class PatchTarget(NamedTuple):
    """One attribute to wrap: ``module``, a dotted ``attribute`` path in it, and a factory.

    ``factory`` is a callable or a ``"package.module:function"`` string, so the module holding the
    wrappers is imported only when the target module is. An ``optional`` target that a version of
    the framework lacks is skipped instead of failing the integration.

    With ``replaces``, the factory returns a function that takes the original and returns its
    replacement, called directly: for a plain function on a hot path (run for every step of a
    chain), where the wrapper convention's extra call and argument packing show.

    With ``overrides``, a method patched on a class is also wrapped where a subclass defines its
    own (another instrumentation may have patched the subclass before traceroot came, and its
    patch calls the original, not traceroot's).
    """

    module: str
    attribute: str
    factory: WrapperFactory | ReplacerFactory | str
    optional: bool = False
    replaces: bool = False
    overrides: bool = False

    def resolve_factory(self) -> Callable[[BaseIntegration], Any]:
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, function = self.factory.partition(":")
        factory: Callable[[BaseIntegration], Any] = getattr(
            importlib.import_module(module_name), function
        )
        return factory


class _Applied(NamedTuple):
    owner: Any
    attribute: str
    original: Any
    owned: bool  # the attribute was in the owner's own __dict__ (not inherited)
    installed: Any  # what traceroot put there


class BaseIntegration:
    """Subclass and fill in the class attributes; override the methods only when patching by
    targets does not fit."""

    name: ClassVar[str] = ""
    modules: ClassVar[tuple[str, ...]] = ()
    distribution: ClassVar[str | None] = None
    supported: ClassVar[str] = ""
    targets: ClassVar[tuple[PatchTarget, ...]] = ()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._applied: list[_Applied] = []
        # (class, method, original) of the targets patched with ``overrides``
        self._watched: list[tuple[type, str, Any]] = []
        self._waiting: list[Callable[[types.ModuleType], None]] = []
        self._instrumented = False
        self.errors: list[str] = []

    @property
    def instrumented(self) -> bool:
        return self._instrumented

    def instrument(self) -> None:
        """Wrap every target: now if its module is imported, else when it is. Idempotent.

        A target whose module is already imported and cannot be wrapped raises here (and what was
        wrapped is restored); one wrapped later records its error in :attr:`errors`.
        """
        with self._lock:
            if self._instrumented:
                return
            try:
                for target in self.targets:
                    if target.module in sys.modules:
                        self._apply(target, sys.modules[target.module])
                    else:
                        self._apply_when_imported(target)
            except BaseException:
                self._undo()
                raise
            self._instrumented = True

    def uninstrument(self) -> None:
        """Put every original back exactly as it was, and drop pending targets."""
        with self._lock:
            self._undo()
            self._instrumented = False

    def _apply_when_imported(self, target: PatchTarget) -> None:
        def apply(module: types.ModuleType) -> None:
            with self._lock:
                if apply not in self._waiting:
                    return  # uninstrumented meanwhile
                self._waiting.remove(apply)
                try:
                    self._apply(target, module)
                except Exception as error:
                    self.errors.append(f"{target.module}.{target.attribute}: {error!r}")
                    raise

        self._waiting.append(apply)
        imports.when_imported(target.module, apply)

    def _apply(self, target: PatchTarget, module: types.ModuleType) -> None:
        try:
            owner, attribute, original = _resolve(module, target.attribute)
        except AttributeError:
            if target.optional:
                return
            raise
        owned = attribute in getattr(owner, "__dict__", {})
        made = target.resolve_factory()(self)
        installed = made(original) if target.replaces else _wrap(owner, original, made)
        setattr(owner, attribute, installed)
        self._applied.append(_Applied(owner, attribute, original, owned, installed))
        if target.overrides and isinstance(owner, type):
            self._watched.append((owner, attribute, original))
            for subclass in _subclasses(owner):
                own = vars(subclass).get(attribute)
                # Another instrumentation's patch of the original (it marks what it wraps with
                # ``__wrapped__``), made before traceroot came: it calls the original, so wrap it
                # too. A subclass's own method (one calling ``super()``) already runs ours.
                if own is not None and own is not original and _wraps(own, {id(original)}):
                    wrapped = _wrap(subclass, own, made)
                    setattr(subclass, attribute, wrapped)
                    self._applied.append(_Applied(subclass, attribute, own, True, wrapped))

    def bypassed(self) -> list[str]:
        """Methods where a subclass's own version does not run traceroot's wrapper, because it
        is the unpatched original or another instrumentation's patch of it, set after traceroot
        patched (or put back by that instrumentation's uninstrument): calls through them make
        no span."""
        with self._lock:
            ours = {id(applied.installed) for applied in self._applied}
            found = []
            for owner, attribute, original in self._watched:
                for subclass in _subclasses(owner):
                    own = vars(subclass).get(attribute)
                    if own is not None and _wraps(own, {id(original)}) and not _wraps(own, ours):
                        found.append(f"{subclass.__module__}.{subclass.__qualname__}.{attribute}")
            return found

    def _undo(self) -> None:
        for waiting in self._waiting:
            imports.cancel(waiting)
        self._waiting.clear()
        self._watched.clear()
        self._restore_all()

    def _restore_all(self) -> None:
        while self._applied:
            applied = self._applied.pop()
            current = getattr(applied.owner, "__dict__", {}).get(applied.attribute)
            if current is not applied.installed:
                # Replaced since (another instrumentation's uninstrument put back what it saw):
                # putting ours or our original back would undo that.
                continue
            if applied.owned:
                setattr(applied.owner, applied.attribute, applied.original)
            else:
                delattr(applied.owner, applied.attribute)


def _resolve(module: types.ModuleType, path: str) -> tuple[Any, str, Any]:
    """``(owner, attribute, original)`` for a dotted path; class attributes come raw from the MRO
    ``__dict__`` (no binding), so staticmethod and classmethod objects are seen as such."""
    owner: Any = module
    parts = path.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    attribute = parts[-1]
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attribute in vars(klass):
                return owner, attribute, vars(klass)[attribute]
    return owner, attribute, getattr(owner, attribute)


def _wraps(function: Any, targets: set[int]) -> bool:
    """Whether ``function`` is one of ``targets`` (by id) or wraps one, through the chain of
    ``__wrapped__`` that wrapt and ``functools.wraps`` leave."""
    for _ in range(32):  # bounded against a cycle
        if function is None:
            return False
        if id(function) in targets:
            return True
        function = getattr(function, "__wrapped__", None)
    return False


def _subclasses(cls: type) -> list[type]:
    """Every subclass of ``cls``, at any depth, each once."""
    found: dict[type, None] = {}
    pending: list[type] = list(cls.__subclasses__())
    while pending:
        subclass = pending.pop()
        if subclass not in found:
            found[subclass] = None
            pending.extend(subclass.__subclasses__())
    return list(found)


def _wrap(owner: Any, original: Any, wrapper: Wrapper) -> Any:
    """A wrapper with the ``(wrapped, instance, args, kwargs)`` convention around ``original``.

    Plain synchronous functions get a small closure, so patching them (the threading integration
    does at start-up) needs no wrapt; coroutines, generators, builtins and descriptors get wrapt's
    ``FunctionWrapper``, which keeps what inspection sees about them.
    """
    plain = isinstance(original, types.FunctionType) and not (
        original.__code__.co_flags & _NOT_PLAIN_FLAGS
    )
    if not plain:
        import wrapt  # imported when the first framework is patched, never at start-up

        return wrapt.FunctionWrapper(original, wrapper)
    if isinstance(owner, type):

        @functools.wraps(original)
        def method(instance: Any, *args: Any, **kwargs: Any) -> Any:
            return wrapper(original.__get__(instance, type(instance)), instance, args, kwargs)

        return method

    @functools.wraps(original)
    def function(*args: Any, **kwargs: Any) -> Any:
        return wrapper(original, None, args, kwargs)

    return function


_NOT_PLAIN_FLAGS: Final = (
    inspect.CO_COROUTINE
    | inspect.CO_GENERATOR
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)
