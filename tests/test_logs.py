from __future__ import annotations

import logging

import pytest

from traceroot import logs
from traceroot.guard import report


def test_warn_once_logs_a_key_the_first_time_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        for _ in range(3):
            logs.warn_once("test:logs:once", "traceroot: %s happened", "something")
        logs.warn_once("test:logs:other", "traceroot: %s happened", "something else")
    assert [r.getMessage() for r in caplog.records] == [
        "traceroot: something happened",
        "traceroot: something else happened",
    ]


def test_an_internal_error_and_a_warning_with_the_same_name_are_both_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="traceroot"):
        logs.warn_once("test.logs.site", "traceroot: a warning")
        report("test.logs.site", ValueError("bug"))
        report("test.logs.site", ValueError("bug"))
    levels = [(r.levelno, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert levels == [
        (logging.WARNING, "traceroot: a warning"),
        (logging.WARNING, "traceroot: internal error in test.logs.site"),
        (logging.DEBUG, "traceroot: internal error in test.logs.site again"),
    ]
