"""Numbers and arguments out of range never raise into the app: clamped or ignored, one warning
each, and spans still reach the store. Each case runs in a fresh interpreter that owns its
pipeline, as an app does."""

from __future__ import annotations

import json
import logging
import sqlite3
import urllib.parse
from pathlib import Path

import pytest

from traceroot import config, logs

from .conftest import run_script

_APP = """
import json, traceroot
traceroot.instrument()

@traceroot.observe
def work(n):
    return n

for n in range(3):
    work(n)
print(json.dumps({"flushed": traceroot.flush()}))
"""


@pytest.mark.parametrize(
    ("variable", "value", "field", "clamped"),
    [
        ("TRACEROOT_MAX_QUEUE_SIZE", "1e23", "max_queue_size", config.MAX_QUEUE_SPANS),
        (
            "TRACEROOT_MAX_QUEUE_SIZE",
            "100000000000000000000000",
            "max_queue_size",
            config.MAX_QUEUE_SPANS,
        ),
        ("TRACEROOT_FLUSH_INTERVAL", "1e10", "flush_interval", config.MAX_SECONDS),
        ("TRACEROOT_TIMEOUT", "1e10", "timeout", config.MAX_SECONDS),
        ("TRACEROOT_TIMEOUT", "inf", "timeout", config.MAX_SECONDS),
        ("TRACEROOT_FLUSH_AT", "1e9", "flush_at", config.MAX_FLUSH_AT),
    ],
)
def test_huge_environment_numbers_are_clamped_and_spans_still_stored(
    variable: str, value: str, field: str, clamped: float, tmp_path: Path
) -> None:
    assert getattr(config.load(env={variable: value}), field) == clamped
    store = tmp_path / "traces.db"
    result = run_script(
        _APP, env={variable: value, "TRACEROOT_STORE_PATH": str(store)}, cwd=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"flushed": True}
    warnings = [line for line in result.stderr.splitlines() if "above the maximum" in line]
    assert len(warnings) == 1, result.stderr
    assert variable in warnings[0]
    with sqlite3.connect(store) as db:
        names = [row[0] for row in db.execute("select name from spans")]
    assert names == ["work"] * 3


def test_bad_flush_and_shutdown_timeouts_never_raise(tmp_path: Path) -> None:
    result = run_script(
        """
import json, traceroot
traceroot.instrument()

@traceroot.observe
def work():
    return 1

results = []
for timeout in (float("nan"), float("inf"), "1", True):
    work()
    results.append(traceroot.flush(timeout))
work()
results.append(traceroot.shutdown(float("inf")))
print(json.dumps(results))
""",
        env={"TRACEROOT_STORE_PATH": str(tmp_path / "traces.db")},
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [True] * 5
    stderr = result.stderr
    assert stderr.count("flush(timeout=nan): the timeout must be a number") == 1
    assert stderr.count("flush(timeout='1'): the timeout must be a number") == 1
    assert stderr.count("flush(timeout)=inf is above the maximum") == 1
    assert stderr.count("shutdown(timeout)=inf is above the maximum") == 1
    with sqlite3.connect(tmp_path / "traces.db") as db:
        assert db.execute("select count(*) from spans").fetchone()[0] == 5


def test_arguments_of_the_wrong_type_warn_once_and_are_ignored(tmp_path: Path) -> None:
    result = run_script(
        """
import json, traceroot
traceroot.instrument(store_path=123, host_url=5, integrations=5)
traceroot.instrument(store_path=123, host_url=5, integrations=5)
from traceroot import config
settings = config.current()
print(json.dumps({"store_path": settings.store_path, "host_url": settings.host_url,
                  "threading": [s.state.value for s in traceroot.integrations_status()
                                if s.name == "threading"]}))
""",
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out == {
        "store_path": config.DEFAULT_STORE_PATH,
        "host_url": config.DEFAULT_HOST_URL,
        # integrations=5 counts as not given: instrument() turns on everything installed
        "threading": ["active"],
    }
    stderr = result.stderr
    assert stderr.count("store_path=123 must be a non-empty str") == 1
    assert stderr.count("host_url=5 must be a non-empty str") == 1
    assert stderr.count("integrations=5 is not a list of integration names") == 1


def test_initialize_clamps_numbers_given_as_arguments(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "_seen", set())
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        settings = config.load(
            {"flush_interval": 1e10, "timeout": float("inf"), "flush_at": 10**30}, env={}
        )
        nan = config.load({"timeout": float("nan")}, env={})
    assert (settings.flush_interval, settings.timeout, settings.flush_at) == (
        config.MAX_SECONDS,
        config.MAX_SECONDS,
        config.MAX_FLUSH_AT,
    )
    assert nan.timeout == config.Settings().timeout
    assert caplog.text.count("above the maximum") == 3
    assert "timeout=nan must be a positive float" in caplog.text


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://traces.example.com", True),
        ("http://user:hunter2@traces.example.com/", True),
        ("HTTP://10.0.0.5:8000/", True),
        ("https://traces.example.com", False),
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_api_key_over_plain_http_to_another_host_warns_once(
    url: str, warned: bool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "_seen", set())
    env = {"TRACEROOT_API_KEY": "tr-key-123456789", "TRACEROOT_HOST_URL": url}
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        config.load(env=env)
        config.load(env=env)
    assert "hunter2" not in caplog.text
    expected = 1 if warned else 0
    assert caplog.text.count("the API key would be sent readable") == expected
    if warned:
        assert "use https:// (set TRACEROOT_HOST_URL)" in caplog.text
        assert f"plain http:// to {urllib.parse.urlsplit(url).hostname}," in caplog.text
    # Without a key nothing secret goes out: no warning.
    monkeypatch.setattr(logs, "_seen", set())
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        config.load(env={"TRACEROOT_HOST_URL": url})
    assert "API key" not in caplog.text
