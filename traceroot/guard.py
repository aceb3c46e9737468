"""Contain traceroot's own failures so that they never reach the user's code.

Every piece of instrumentation work that runs inside a user's call (reading arguments, recording
results, stamping context) runs under a :class:`contained` guard. A failure is logged once per
site and swallowed; with ``TRACEROOT_STRICT=1`` (the test suite sets it) it is re-raised so a bug
cannot hide behind the guard.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import TracebackType
from typing import Final, ParamSpec, TypeVar

from traceroot.logs import first_time, logger

STRICT_ENV: Final = "TRACEROOT_STRICT"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def strict() -> bool:
    """Whether internal errors are re-raised (``TRACEROOT_STRICT=1``), read on every failure."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def report(site: str, error: BaseException) -> None:
    """Log an internal error, once per site, with its traceback."""
    if first_time(f"internal-error:{site}"):
        logger.warning(
            "traceroot: internal error in %s (%s: %s); your code is unaffected and keeps running",
            site,
            type(error).__name__,
            error,
            exc_info=error,
        )
    else:
        logger.debug("traceroot: internal error in %s again", site, exc_info=error)


class contained:  # noqa: N801 - reads as a verb at the use site: ``with contained("site"):``
    """A ``with`` block or decorator that logs and swallows an ``Exception`` raised inside it.

    Stateless, so one instance per site can be made at import time and shared by all threads::

        _recording = contained("observe.record_output")

        with _recording:
            span.set_attribute(...)
    """

    __slots__ = ("site",)

    def __init__(self, site: str) -> None:
        self.site = site

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        report(self.site, exc)
        return not strict()

    def failed(self, error: Exception) -> None:
        """For hot paths that catch inline instead of entering the block: report, or re-raise
        under ``TRACEROOT_STRICT``."""
        report(self.site, error)
        if strict():
            raise error

    def __call__(self, fn: Callable[_P, _R | None]) -> Callable[_P, _R | None]:
        @functools.wraps(fn)
        def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
            with self:
                return fn(*args, **kwargs)
            return None

        return guarded
