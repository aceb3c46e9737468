"""Fixtures for the agent-framework tests: the local OpenAI-compatible server, the API-key check,
and :func:`framework`, which skips a test file whose framework is not installed, except in the
framework's own tox env (``TRACEROOT_REQUIRE_FRAMEWORKS`` names it there), where that fails."""

from __future__ import annotations

import importlib
import os
import types

import pytest

from ..integrations.conftest import (  # noqa: F401 - fixtures, shared with the provider tests
    _no_api_key_in_any_span,
    _openai_server,
    openai_server,
)

REQUIRED_ENV = "TRACEROOT_REQUIRE_FRAMEWORKS"


def framework(module: str) -> types.ModuleType:
    """Import ``module`` for a test file (call it at the file's top); skip the file if it is
    missing, unless the environment requires it."""
    required = {name.strip() for name in os.environ.get(REQUIRED_ENV, "").split(",")}
    if module in required:
        return importlib.import_module(module)
    return pytest.importorskip(module)


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
