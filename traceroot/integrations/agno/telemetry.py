"""Agno's usage events to agno.com, off while traceroot traces unless the user chose
(:mod:`traceroot.integrations.vendor_telemetry`); loaded with Agno.

Agno decides per agent, team or workflow, before each run's event: its ``set_telemetry`` (a
team's and a workflow's ``_set_telemetry``) lets ``AGNO_TELEMETRY`` override the object's
``telemetry`` flag, which defaults to ``True``. Wrapped, the decision is Agno's own when
``AGNO_TELEMETRY`` is set or the app passed ``telemetry=`` to the constructor, else off. The
constructors are wrapped to tell an explicit ``telemetry=`` from the default; one passed by Agno
itself (a ``deep_copy``, an object rebuilt from its stored config) is Agno's copy of a value, not
the app's choice.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any, Final

from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.vendor_telemetry import turned_off, user_chose

VENDOR_TELEMETRY_ENV: Final = "AGNO_TELEMETRY"
# On an agent, team or workflow: the ``telemetry=`` the app's code passed to its constructor.
_CHOSEN: Final = "_traceroot_telemetry_chosen"


def constructor(integration: BaseIntegration) -> Wrapper:
    """``Agent.__init__`` (``Team``, ``Workflow``): remember an explicit ``telemetry=`` the
    app's code passed."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        if "telemetry" in kwargs and instance is not None and _called_by_the_app():
            vars(instance)[_CHOSEN] = bool(kwargs["telemetry"])
        return result

    return wrapper


def set_telemetry(integration: BaseIntegration) -> Wrapper:
    """``set_telemetry(agent)`` (a team's ``_set_telemetry(team)``, ``Workflow._set_telemetry``):
    Agno's decision when the user chose, else off."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        owner = instance if instance is not None else (args[0] if args else None)
        explicit = vars(owner).get(_CHOSEN) if hasattr(owner, "__dict__") else None
        if owner is None or user_chose((VENDOR_TELEMETRY_ENV,), explicit):
            return wrapped(*args, **kwargs)
        if owner.telemetry:
            owner.telemetry = False
            turned_off("Agno", f"set {VENDOR_TELEMETRY_ENV}=true or pass telemetry=True")
        return None

    return wrapper


def _called_by_the_app() -> bool:
    """Whether the constructor's caller (past traceroot's and wrapt's frames) is outside Agno."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("traceroot.integrations", "wrapt")):
            return not (module == "agno" or module.startswith("agno."))
        frame = frame.f_back
    return True
