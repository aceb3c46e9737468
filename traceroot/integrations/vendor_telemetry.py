"""Frameworks' own usage telemetry to their vendors: off while traceroot traces, unless the user
chose.

Some frameworks (CrewAI, Agno) send anonymous usage data to their vendor's servers by default.
traceroot turns that off where the framework decides it, by patching the decision (a patch target
like any other, restored by ``uninstrument()``), never by writing the environment: child processes
would inherit the variable, and setting it from an import hook races other threads reading it.
Whatever the user chose stands: one of the framework's own variables set (to any value), or an
explicit flag on the object.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from traceroot.logs import first_time, logger


def user_chose(variables: Iterable[str], explicit: bool | None = None) -> bool:
    """Whether the user chose about the framework's telemetry: any of its ``variables`` set in
    the environment (whatever the value), or an ``explicit`` flag (``None``: none given)."""
    return explicit is not None or any(variable in os.environ for variable in variables)


def turned_off(framework: str, keep_on: str) -> None:
    """Say once per process that ``framework``'s telemetry to its vendor is off, and how to keep
    it on (``keep_on``)."""
    if first_time(f"vendor-telemetry:{framework}"):
        logger.info(
            "traceroot: %s's usage telemetry to its vendor is off while traceroot traces; %s "
            "to keep it on",
            framework,
            keep_on,
        )
