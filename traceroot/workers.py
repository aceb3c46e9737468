"""Spans of ``multiprocessing`` workers are exported before the worker exits.

A worker started by fork or forkserver (``Process``, ``Pool``, ``ProcessPoolExecutor``) leaves
through ``os._exit``: the exit hook never runs and whatever its export thread had not written yet
is lost. ``multiprocessing`` runs its own exit finalizers in every worker just before that
(``util._exit_function`` in the process bootstrap): a finalizer registered there flushes, within
the exit bound. A ``Pool`` being terminated (as ``with Pool() as pool:`` does on leaving) stops
its workers with SIGTERM instead: a worker whose SIGTERM is still the default flushes first, then
dies of it as it would have.

It costs nothing until a process forks: the finalizer is armed in the child, by
``multiprocessing``'s after-fork registry (it runs in the child's bootstrap, after the finalizers
inherited from the parent were cleared), and directly when traceroot is set up inside a worker
(a spawned child that calls ``instrument()`` at import).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Final

_EXIT_PRIORITY: Final = 100  # before multiprocessing's own finalizers (queues, managers)

_flush: Callable[[], object] | None = None
_armed_in: int | None = None  # the pid whose exit is watched


class _Key:
    """What multiprocessing's after-fork registry holds weakly: kept alive here."""


_key = _Key()


def watch(flush: Callable[[], object]) -> None:
    """Run ``flush`` before any ``multiprocessing`` worker of this process (or this process,
    if it is one) exits."""
    global _flush
    first = _flush is None
    _flush = flush
    if first and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
    _after_fork()
    process = sys.modules.get("multiprocessing.process")
    if process is not None and process.parent_process() is not None:
        _arm()  # set up inside a worker, after its bootstrap ran


def _after_fork() -> None:
    """In a forked child: if it becomes a multiprocessing worker, arm in its bootstrap."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util.register_after_fork(_key, lambda _: _arm())


def _arm() -> None:
    global _armed_in
    if _flush is None or _armed_in == os.getpid():
        return
    _armed_in = os.getpid()
    from multiprocessing import util

    util.Finalize(None, _flush_at_exit, exitpriority=_EXIT_PRIORITY)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _flush_then_terminate)


def _flush_at_exit() -> None:
    flush = _flush
    if flush is not None and _armed_in == os.getpid():
        try:
            flush()
        except Exception:  # noqa: BLE001 - a worker's exit must not fail for its spans
            pass


def _flush_then_terminate(signum: int, frame: FrameType | None) -> None:
    _flush_at_exit()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
