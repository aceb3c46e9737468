"""Version ranges like ``">=1.0,<3"``, checked against an installed distribution.

Only release numbers are compared (``1.2.3rc1`` counts as ``1.2.3``); that is all an integration's
supported range needs, and it spares a dependency on ``packaging``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from importlib import metadata

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|~=)\s*([0-9][0-9.]*)")
_RELEASE = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)")
_OPERATORS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def release(version: str) -> tuple[int, ...]:
    """``"1.40.2.post1"`` -> ``(1, 40, 2)``; unparseable versions give ``()``."""
    match = _RELEASE.match(version)
    if match is None:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` is inside every comma-separated clause of ``spec`` (empty: any)."""
    installed = release(version)
    for clause in filter(None, (part.strip() for part in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None or not installed:
            return False
        op, bound_text = match.groups()
        bound = release(bound_text)
        if op == "~=":
            # Compatible release: >= bound, and the same prefix but for the last part.
            prefix = bound[:-1] if len(bound) > 1 else bound
            ok = _padded(installed, bound)[0] >= _padded(installed, bound)[1]
            if not ok or installed[: len(prefix)] != prefix:
                return False
            continue
        left, right = _padded(installed, bound)
        if not _OPERATORS[op](left, right):
            return False
    return True


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
