"""The provider's Resource: what the SDK's ``Resource.create()`` returns, without its thread pool
when only its own instant detectors run."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Any

import pytest
from opentelemetry.sdk import resources
from opentelemetry.sdk.resources import Resource

from traceroot.resource import create_resource

DETECTORS = "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS"


class _RecordingPool(concurrent.futures.ThreadPoolExecutor):
    made = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).made += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> type[_RecordingPool]:
    """Counts the thread pools the SDK's aggregation makes."""
    _RecordingPool.made = 0
    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", _RecordingPool)
    return _RecordingPool


ENVIRONMENTS: list[dict[str, str]] = [
    {},
    {"OTEL_SERVICE_NAME": "checkout"},
    {"OTEL_RESOURCE_ATTRIBUTES": "service.name=billing,deployment.environment=prod,team=a%20b"},
    # a pair without "=" is warned about and skipped; OTEL_SERVICE_NAME wins over the attribute
    {"OTEL_RESOURCE_ATTRIBUTES": "service.name=a,broken,k = v ", "OTEL_SERVICE_NAME": "b"},
    {"OTEL_RESOURCE_ATTRIBUTES": "process.executable.name=worker,service.instance.id=fixed"},
    {"OTEL_RESOURCE_ATTRIBUTES": ""},
    {DETECTORS: "otel"},
    {DETECTORS: " , "},
]
# Detectors that read more than the environment: the SDK's own pooled aggregation runs them.
POOLED: list[dict[str, str]] = [
    {DETECTORS: "process"},
    {DETECTORS: "os,otel", "OTEL_SERVICE_NAME": "checkout"},
]


def _same(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> Resource:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", DETECTORS):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    expected = Resource.create()
    made = create_resource()
    assert dict(made.attributes) == dict(expected.attributes)
    assert made.schema_url == expected.schema_url
    assert made == expected
    return made


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_default_detectors_give_what_resource_create_gives_without_a_pool(
    monkeypatch: pytest.MonkeyPatch, pools: type[_RecordingPool], environment: dict[str, str]
) -> None:
    _same(monkeypatch, environment)
    assert pools.made == 1  # Resource.create()'s, for the comparison


@pytest.mark.parametrize("environment", POOLED)
def test_other_detectors_run_as_the_sdk_runs_them(
    monkeypatch: pytest.MonkeyPatch, pools: type[_RecordingPool], environment: dict[str, str]
) -> None:
    _same(monkeypatch, environment)
    assert pools.made == 2  # Resource.create() and create_resource() alike


def test_every_registered_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    # "*" (SDK 1.40 and later): all registered detectors, the pooled ones among them
    _same(monkeypatch, {DETECTORS: "*"})


def test_a_failing_detector_is_skipped_with_the_sdk_s_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fails(self: object) -> Resource:
        raise RuntimeError("unreadable environment")

    monkeypatch.setattr(resources.OTELResourceDetector, "detect", fails)
    with caplog.at_level(logging.WARNING, logger=resources.__name__):
        made = _same(monkeypatch, {"OTEL_SERVICE_NAME": "checkout"})
    assert made.attributes["service.name"] != "checkout"
    warnings = [
        (record.msg, str(record.args[0]), type(record.args[1]))  # type: ignore[index]
        for record in caplog.records
        if record.name == resources.__name__
    ]
    failed = ("Exception %s in detector %s, ignoring", "unreadable environment")
    assert warnings == [(*failed, resources.OTELResourceDetector)] * 2  # one from each
