"""Run a generator with work done around each of its steps.

Python runs a generator's body in the context of whoever calls ``next()``, so a context attached
when the generator was created is gone by the time its body runs. The wrappers here re-enter a
context for each step (``resume``/``pause``) and report each item and the single end
(``finish``): exhaustion, an error, ``close()`` or garbage collection. ``send``, ``throw`` and
``close`` reach the inner generator exactly as they would without the wrapper (PEP 380).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any


class ResumeHooks:
    """What to do around the steps of one generator run. Subclasses override what they need."""

    __slots__ = ()

    def resume(self) -> object:
        """Called before each step; returns a token given back to :meth:`pause`."""
        return None

    def pause(self, token: object) -> None:
        """Called after each step, in the same thread and context as :meth:`resume`."""

    def item(self, value: object) -> None:
        """Called with each item the generator yields."""

    def finish(self, error: BaseException | None) -> None:
        """Called exactly once: when the generator returns, raises, or is closed."""


MakeHooks = Callable[[tuple[Any, ...], dict[str, Any]], ResumeHooks]


def generator_function(
    fn: Callable[..., Generator[Any, Any, Any]], make_hooks: MakeHooks
) -> Callable[..., Generator[Any, Any, Any]]:
    """A generator function that runs ``fn``'s generator under fresh hooks for each call."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        hooks = make_hooks(args, kwargs)
        token = hooks.resume()
        try:
            inner = fn(*args, **kwargs)
            item = next(inner)
        except StopIteration as stop:
            hooks.pause(token)
            hooks.finish(None)
            return stop.value
        except BaseException as error:
            hooks.pause(token)
            hooks.finish(error)
            raise
        hooks.pause(token)
        while True:
            hooks.item(item)
            try:
                sent = yield item
            except GeneratorExit:
                token = hooks.resume()
                try:
                    inner.close()
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)
                hooks.finish(None)
                raise
            except BaseException as thrown:  # noqa: BLE001 - handed on to the inner generator
                token = hooks.resume()
                try:
                    item = inner.throw(thrown)
                except StopIteration as stop:
                    hooks.pause(token)
                    hooks.finish(None)
                    return stop.value
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)
            else:
                token = hooks.resume()
                try:
                    item = next(inner) if sent is None else inner.send(sent)
                except StopIteration as stop:
                    hooks.pause(token)
                    hooks.finish(None)
                    return stop.value
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)

    return wrapper


def async_generator_function(
    fn: Callable[..., AsyncGenerator[Any, Any]], make_hooks: MakeHooks
) -> Callable[..., AsyncGenerator[Any, Any]]:
    """The async-generator counterpart of :func:`generator_function`."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        hooks = make_hooks(args, kwargs)
        token = hooks.resume()
        try:
            inner = fn(*args, **kwargs)
            item = await inner.__anext__()
        except StopAsyncIteration:
            hooks.pause(token)
            hooks.finish(None)
            return
        except BaseException as error:
            hooks.pause(token)
            hooks.finish(error)
            raise
        hooks.pause(token)
        while True:
            hooks.item(item)
            try:
                sent = yield item
            except GeneratorExit:
                token = hooks.resume()
                try:
                    await inner.aclose()
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)
                hooks.finish(None)
                raise
            except BaseException as thrown:  # noqa: BLE001 - handed on to the inner generator
                token = hooks.resume()
                try:
                    item = await inner.athrow(thrown)
                except StopAsyncIteration:
                    hooks.pause(token)
                    hooks.finish(None)
                    return
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)
            else:
                token = hooks.resume()
                try:
                    item = await (inner.__anext__() if sent is None else inner.asend(sent))
                except StopAsyncIteration:
                    hooks.pause(token)
                    hooks.finish(None)
                    return
                except BaseException as error:
                    hooks.pause(token)
                    hooks.finish(error)
                    raise
                hooks.pause(token)

    return wrapper
