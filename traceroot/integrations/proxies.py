"""A plain-class stand-in for an object a provider's client returns (a stream, a response), for
the proxies that must see each step of it.

It is what ``wrapt.ObjectProxy`` is to a caller, for the parts a caller of a client uses:
attributes the stand-in does not define are the wrapped object's (read, set and deleted there),
``isinstance`` and ``__class__`` see the wrapped object's class, and ``repr`` is the wrapped
object's. Being plain Python with slots, a stream proxy's ``__next__`` reads its own fields as
slot lookups rather than through wrapt's attribute protocol: a streamed call passes each chunk
through it, and that costs a third of what it does on an ``ObjectProxy``.

Subclasses name their own fields in ``__slots__``; a field spelled ``_self_*`` (as wrapt spells
them) stays on the stand-in.
"""

from __future__ import annotations

from typing import Any


class StandIn:
    """Stands in for ``wrapped``; subclasses define the methods they watch::

    class Watched(StandIn):
        __slots__ = ("_self_recorder",)

        def close(self) -> None: ...
    """

    __slots__ = ("__weakref__", "__wrapped__")

    def __init__(self, wrapped: Any) -> None:
        object.__setattr__(self, "__wrapped__", wrapped)

    # ``isinstance(stream, openai.Stream)`` holds for the stand-in as for the stream itself.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self.__wrapped__)

    def __getattr__(self, name: str) -> Any:
        # Only for names the stand-in lacks: its own methods and set slots are found first. An
        # unset slot of its own (an ``__init__`` that failed) is missing, not the wrapped one's.
        if name == "__wrapped__" or name.startswith("_self_"):
            raise AttributeError(name)
        return getattr(self.__wrapped__, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_self_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.__wrapped__, name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_self_"):
            object.__delattr__(self, name)
        else:
            delattr(self.__wrapped__, name)

    def __dir__(self) -> list[str]:
        return dir(self.__wrapped__)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    # A copy would share the one stream and its span; as wrapt's proxies, refuse plainly.
    def __copy__(self) -> Any:
        raise NotImplementedError("a stream proxy cannot be copied")

    def __deepcopy__(self, memo: Any) -> Any:
        raise NotImplementedError("a stream proxy cannot be copied")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise NotImplementedError("a stream proxy cannot be pickled")
