"""Fixtures for the agent-framework tests: the local OpenAI-compatible server, the API-key check,
and :func:`framework`, which skips a test file whose framework is not installed, except in the
framework's own tox env (``TRACEROOT_REQUIRE_FRAMEWORKS`` names it there), where that fails."""

from __future__ import annotations

import pytest

from ..conftest import required
from ..integrations.conftest import (  # noqa: F401 - fixtures, shared with the provider tests
    _no_api_key_in_any_span,
    _openai_server,
    openai_server,
)

# Skips a test file whose framework is missing, except in the framework's own tox env.
framework = required


def hide_distribution(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the installed distribution ``name`` look absent, as a missing extra would (the
    check for a telemetry package looks its distribution up, importing nothing)."""
    from importlib import metadata

    real = metadata.distribution

    def distribution(wanted: str) -> metadata.Distribution:
        if wanted == name:
            raise metadata.PackageNotFoundError(wanted)
        return real(wanted)

    monkeypatch.setattr(metadata, "distribution", distribution)
