"""Session, user, tags and metadata carried in the OpenTelemetry context.

Values are attached and detached by token, so every asyncio task and every thread that inherits a
context sees the values of the code that created it, and nothing leaks past the block that set
them. :class:`ContextAttributes` is immutable; the attributes it stamps on spans are computed once
per block, not once per span.

A block that propagates (``propagate=True``, a block inside one, or every block when
``TRACEROOT_PROPAGATE_SESSION`` is on) also puts its session and user in the context's W3C
Baggage, in the same attach, so the process's propagators send them to the services it calls;
:mod:`traceroot.stamping` reads them back there.
"""

from __future__ import annotations

import functools
import inspect
import os
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, cast

from opentelemetry import baggage
from opentelemetry import context as otel_context

from traceroot import semconv
from traceroot.config import PROPAGATE_SESSION, Settings, parse_bool
from traceroot.config import current as current_settings
from traceroot.generators import ResumeHooks, async_generator_function, generator_function
from traceroot.guard import contained
from traceroot.logs import warn_once
from traceroot.serialize import exportable, to_json

MAX_ID_LENGTH: Final = 1_000
_KEY: Final = otel_context.create_key("traceroot.attributes")
_EMPTY_METADATA: Final[Mapping[str, Any]] = types.MappingProxyType({})

_F = TypeVar("_F", bound=Callable[..., Any])
_merging = contained("context.merge")


class ContextAttributes:
    """Session, user, tags and metadata in force at one point of the program."""

    __slots__ = ("_span_attributes", "metadata", "propagate", "session_id", "tags", "user_id")

    def __init__(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        tags: tuple[str, ...] = (),
        metadata: Mapping[str, Any] = _EMPTY_METADATA,
        propagate: bool = False,
    ) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.tags = tags
        self.metadata = metadata
        # Whether session and user also go downstream as W3C Baggage (held by inner blocks too).
        self.propagate = propagate
        self._span_attributes: dict[str, Any] | None = None

    def merged(
        self,
        session_id: str | None,
        user_id: str | None,
        tags: tuple[str, ...],
        metadata: Mapping[str, Any],
        propagate: bool = False,
    ) -> ContextAttributes:
        """Inner values over these: scalars replace, tags join in order, metadata merges; once a
        block propagates, the blocks inside it do too."""
        return ContextAttributes(
            session_id if session_id is not None else self.session_id,
            user_id if user_id is not None else self.user_id,
            tuple(dict.fromkeys(self.tags + tags)) if tags else self.tags,
            types.MappingProxyType({**self.metadata, **metadata}) if metadata else self.metadata,
            self.propagate or propagate,
        )

    def span_attributes(self) -> dict[str, Any]:
        """The span attributes these values stand for, built on first use and then shared."""
        attributes = self._span_attributes
        if attributes is None:
            attributes = {}
            if self.session_id is not None:
                attributes[semconv.SESSION_ID] = self.session_id
            if self.user_id is not None:
                attributes[semconv.USER_ID] = self.user_id
            if self.tags:
                attributes[semconv.SPAN_TAGS] = list(self.tags)
            if self.metadata:
                budget = current_settings().max_attribute_bytes
                attributes[semconv.SPAN_METADATA] = to_json(dict(self.metadata), budget=budget)
            self._span_attributes = attributes
        return attributes

    def __repr__(self) -> str:
        return (
            f"ContextAttributes(session_id={self.session_id!r}, user_id={self.user_id!r}, "
            f"tags={self.tags!r}, metadata={dict(self.metadata)!r}, propagate={self.propagate!r})"
        )


EMPTY: Final = ContextAttributes()


def get_attributes(ctx: otel_context.Context | None = None) -> ContextAttributes:
    """The attributes in force in ``ctx`` (default: the current context)."""
    return attributes_in(otel_context.get_current() if ctx is None else ctx)


def attributes_in(ctx: otel_context.Context) -> ContextAttributes:
    """:func:`get_attributes` of a context in hand, read straight from it (every span asks)."""
    value = ctx.get(_KEY)
    return value if isinstance(value, ContextAttributes) else EMPTY


def with_attributes(
    ctx: otel_context.Context | None = None,
    *,
    session_id: object = None,
    user_id: object = None,
    tags: object = None,
    metadata: object = None,
    propagate: bool = False,
) -> otel_context.Context:
    """A copy of ``ctx`` with these values merged over the ones it holds. Never raises.

    ``propagate``: also put the session and user in the copy's W3C Baggage (see the module)."""
    base = otel_context.get_current() if ctx is None else ctx
    with _merging:
        merged = get_attributes(base).merged(
            normalize_id(session_id, "session_id"),
            normalize_id(user_id, "user_id"),
            normalize_tags(tags),
            normalize_metadata(metadata),
            propagate or propagates_by_default(),
        )
        ctx = otel_context.set_value(_KEY, merged, base)
        return _with_baggage(ctx, merged) if merged.propagate else ctx
    return base


def _with_baggage(ctx: otel_context.Context, attributes: ContextAttributes) -> otel_context.Context:
    """``ctx`` with the session and user in force in its W3C Baggage: what the propagators send
    downstream is what this process's spans carry."""
    for key, value in (
        (semconv.BAGGAGE_SESSION_ID, attributes.session_id),
        (semconv.BAGGAGE_USER_ID, attributes.user_id),
    ):
        if value is not None and baggage.get_baggage(key, ctx) != value:
            ctx = baggage.set_baggage(key, value, ctx)
    return ctx


# The settings the process-wide choice was read with, and the choice: read again only when the
# settings change (``instrument()``/``initialize()``), never per block.
_propagation_read: tuple[Settings | None, bool] = (None, False)


def propagates_by_default() -> bool:
    """Whether ``TRACEROOT_PROPAGATE_SESSION`` sends every block's session and user downstream."""
    global _propagation_read
    settings = current_settings()
    read_with, propagate = _propagation_read
    if read_with is not settings:
        propagate = parse_bool(PROPAGATE_SESSION, os.environ.get(PROPAGATE_SESSION), False)
        _propagation_read = (settings, propagate)
    return propagate


def normalize_id(value: object, what: str) -> str | None:
    """``str()`` of an id, cut to 1,000 characters with one warning per kind of id."""
    if value is None:
        return None
    text = exportable(value if isinstance(value, str) else _safe_str(value))
    if len(text) > MAX_ID_LENGTH:
        warn_once(
            f"long:{what}",
            "traceroot: a %s of %d characters was cut to %d",
            what,
            len(text),
            MAX_ID_LENGTH,
        )
        text = text[:MAX_ID_LENGTH]
    return text


def normalize_tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (exportable(value),)
    if isinstance(value, Iterable):
        return tuple(
            dict.fromkeys(
                exportable(tag if isinstance(tag, str) else _safe_str(tag)) for tag in value
            )
        )
    warn_once("bad:tags", "traceroot: tags must be a list of strings, not %s", type(value).__name__)
    return ()


def normalize_metadata(value: object) -> Mapping[str, Any]:
    if value is None:
        return _EMPTY_METADATA
    if isinstance(value, Mapping):
        return {
            key if isinstance(key, str) else _safe_str(key): item for key, item in value.items()
        }
    warn_once("bad:metadata", "traceroot: metadata must be a mapping, not %s", type(value).__name__)
    return _EMPTY_METADATA


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a user __str__ may raise; an id must still be recorded
        return f"<unprintable {type(value).__name__}>"


class using_attributes:  # noqa: N801 - the TraceRoot/OpenInference name, used like a function
    """Give every span started inside a session, a user, tags and metadata.

    Use it as a ``with`` or ``async with`` block, or as a decorator on a sync, async, generator or
    async-generator function (it holds for the whole run, not just the call that creates a
    coroutine or generator). Blocks nest: inner ids win, tags join, metadata merges::

        with using_attributes(session_id="chat-42", user_id="ada", tags=["beta"]):
            agent.run("What's the weather in SF?")

    ``propagate=True`` also sends the session and user to the services this block calls, as W3C
    Baggage (``session.id``, ``user.id``) that any OpenTelemetry-instrumented client carries, so
    their spans join the session. Baggage goes to every host called, model providers included;
    tags and metadata never leave the process. Blocks inside a propagating block propagate too.
    """

    __slots__ = ("_metadata", "_propagate", "_session_id", "_tags", "_tokens", "_user_id")

    def __init__(
        self,
        *,
        session_id: object = None,
        user_id: object = None,
        tags: Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        propagate: bool = False,
    ) -> None:
        self._session_id = session_id
        self._user_id = user_id
        self._tags = tags
        self._metadata = metadata
        self._propagate = propagate is True
        self._tokens: list[object] = []

    def _attach(self) -> object:
        return otel_context.attach(
            with_attributes(
                session_id=self._session_id,
                user_id=self._user_id,
                tags=self._tags,
                metadata=self._metadata,
                propagate=self._propagate,
            )
        )

    def __enter__(self) -> using_attributes:
        self._tokens.append(self._attach())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._tokens:
            otel_context.detach(self._tokens.pop())  # type: ignore[arg-type]

    async def __aenter__(self) -> using_attributes:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def __call__(self, fn: _F) -> _F:
        return cast(_F, decorate_with_context(fn, self._attach))


def using_session(session_id: object, *, propagate: bool = False) -> using_attributes:
    """Shorthand for ``using_attributes(session_id=..., propagate=...)``."""
    return using_attributes(session_id=session_id, propagate=propagate)


def using_user(user_id: object, *, propagate: bool = False) -> using_attributes:
    """Shorthand for ``using_attributes(user_id=..., propagate=...)``."""
    return using_attributes(user_id=user_id, propagate=propagate)


class _AttachEachStep(ResumeHooks):
    """Generator hooks that attach a fresh context around every step of the generator."""

    __slots__ = ("_attach",)

    def __init__(self, attach: Callable[[], object]) -> None:
        self._attach = attach

    def resume(self) -> object:
        return self._attach()

    def pause(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]


def decorate_with_context(
    fn: Callable[..., Any], attach: Callable[[], object]
) -> Callable[..., Any]:
    """Wrap ``fn`` so that ``attach()`` is in force while any of its code runs."""
    if inspect.isasyncgenfunction(fn):
        return async_generator_function(fn, lambda args, kwargs: _AttachEachStep(attach))
    if inspect.isgeneratorfunction(fn):
        return generator_function(fn, lambda args, kwargs: _AttachEachStep(attach))
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            token = attach()
            try:
                return await fn(*args, **kwargs)
            finally:
                otel_context.detach(token)  # type: ignore[arg-type]

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = attach()
        try:
            return fn(*args, **kwargs)
        finally:
            otel_context.detach(token)  # type: ignore[arg-type]

    return wrapper
