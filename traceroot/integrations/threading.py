"""Carry the OpenTelemetry context into threads, so sessions and parent spans survive them.

Work handed to a ``concurrent.futures`` thread pool (``asyncio``'s ``run_in_executor`` included)
and the target of a ``threading.Thread`` or the function of a ``threading.Timer`` run in the
context of the code that submitted or started them. LangChain, for one, runs sync callbacks and
tools in thread pools.

A pool's job carries its submitter's context, whichever thread runs it; the pool's threads carry
none of their own. A long-lived thread's target runs in its starter's context, the whole of it:
jobs such a thread takes from a queue must carry their own (``contextvars.copy_context()`` when
enqueuing, ``ctx.run(job)`` in the worker; see the README), since nothing marks where one
queued job ends and the next begins.

Written here rather than taken from opentelemetry-instrumentation-threading: small wrappers,
applied lazily like every integration, without the instrumentation package's import cost at
start-up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context

from traceroot.integrations.base import BaseIntegration, PatchTarget, Wrapper

_CONTEXT_ATTRIBUTE = "_traceroot_context"


def _in_context(ctx: otel_context.Context, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        token = otel_context.attach(ctx)
        try:
            return fn(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run


def executor_submit(integration: BaseIntegration) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not args:
            return wrapped(*args, **kwargs)  # let the executor raise its own TypeError
        fn, *rest = args
        return wrapped(_in_context(otel_context.get_current(), fn), *rest, **kwargs)

    return wrapper


def thread_start(integration: BaseIntegration) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not _is_pool_worker(instance):
            try:
                setattr(instance, _CONTEXT_ATTRIBUTE, otel_context.get_current())
            except AttributeError:
                pass  # a Thread subclass with __slots__: it runs without the context, as before
        return wrapped(*args, **kwargs)

    return wrapper


def _is_pool_worker(thread: Any) -> bool:
    """A ``ThreadPoolExecutor`` worker: started by whichever submission found the pool short of
    threads, it then serves every submitter. Each job carries its own submitter's context
    (:func:`executor_submit`); the thread itself carries none, so its initializer and the time
    between jobs belong to no request."""
    pool = sys.modules.get("concurrent.futures.thread")
    target = getattr(thread, "_target", None)
    return pool is not None and target is not None and target is getattr(pool, "_worker", None)


def thread_run(integration: BaseIntegration) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        ctx = getattr(instance, _CONTEXT_ATTRIBUTE, None)
        if ctx is None:
            return wrapped(*args, **kwargs)
        return _in_context(ctx, wrapped)(*args, **kwargs)

    return wrapper


class ThreadingIntegration(BaseIntegration):
    name = "threading"
    modules = ("threading",)
    targets = (
        PatchTarget("threading", "Thread.start", thread_start),
        PatchTarget("threading", "Thread.run", thread_run),
        # ``Timer`` overrides ``run`` (it waits, then calls its function): wrapped as well, its
        # ``start`` is ``Thread``'s and already records the starter's context.
        PatchTarget("threading", "Timer.run", thread_run),
        PatchTarget("concurrent.futures.thread", "ThreadPoolExecutor.submit", executor_submit),
    )
