from __future__ import annotations

import logging

import pytest

from traceroot.guard import contained


def test_contained_swallows_and_logs_once_when_not_strict(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    site = contained("test.site.lenient")
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        for _ in range(3):
            with site:
                raise ValueError("internal bug")
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1
    assert "test.site.lenient" in messages[0]
    assert "your code is unaffected" in messages[0]


def test_contained_reraises_under_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "1")
    with pytest.raises(ValueError, match="internal bug"), contained("test.site.strict"):
        raise ValueError("internal bug")


def test_contained_never_swallows_base_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    with pytest.raises(KeyboardInterrupt), contained("test.site.interrupt"):
        raise KeyboardInterrupt


def test_decorator_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "0")

    @contained("test.site.decorated")
    def broken() -> int:
        raise RuntimeError("bug")

    assert broken() is None
