"""traceroot's logger, and the one record of what has been logged once already.

A warning about the user's set-up or an internal error is worth one line, not one per call: a
bad setting is read on every span and a broken site may fail on every call. Both are keyed, and
only the first time a key is seen is logged as a warning. This module imports nothing from
traceroot, so every other module can use it.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("traceroot")

_seen: set[str] = set()
_seen_lock = threading.Lock()


def first_time(key: str) -> bool:
    """Whether this is the first time ``key`` is seen in this process; it is seen from now on."""
    with _seen_lock:
        if key in _seen:
            return False
        _seen.add(key)
        return True


def warn_once(key: str, message: str, *args: object) -> None:
    """Log ``message`` the first time ``key`` is seen in this process, and never again."""
    if first_time(key):
        logger.warning(message, *args)
