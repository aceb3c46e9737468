"""Version ranges like ``">=1.0,<3"``, checked against an installed distribution.

The range is a PEP 440 specifier, and ``packaging`` answers it, so an integration's range means
here what it means to pip. ``packaging`` is imported by :func:`satisfies` only: that runs when a
framework is imported and about to be patched, never for ``import traceroot`` or ``instrument()``
alone, which have a start-up budget to keep.
"""

from __future__ import annotations

import re
from importlib import metadata

# The leading release number of a version packaging cannot parse (a vendor's "2.1.0-custom").
_LEADING_RELEASE = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)")


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` is inside ``spec`` (empty: any version).

    A pre-release or development release counts as the release it leads to: ``2.0.0rc1`` is
    outside ``<2`` and ``1.5.0b1`` inside ``>=1.5``, so a user trying a framework's next version
    early is traced exactly as they will be on its release. A version ``packaging`` cannot parse
    is judged by its leading release number (``2.1.0-custom`` as ``2.1.0``), and one without any,
    like a range ``packaging`` cannot parse, is outside: the caller skips the integration with a
    warning, never an exception.

    >>> satisfies("0.3.5", "==0.3.*")
    True
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    try:
        parsed = Version(version)
    except InvalidVersion:
        leading = _LEADING_RELEASE.match(version)
        if leading is None:
            return False
        parsed = Version(leading.group(1))
    if parsed.is_prerelease:
        parsed = Version(parsed.base_version)
    return specifiers.contains(parsed, prereleases=True)


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
