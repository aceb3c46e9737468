"""``TRACEROOT_SAMPLE_RATE`` and ``OTEL_TRACES_SAMPLER`` never silently override each other.

The rule: ``TRACEROOT_SAMPLE_RATE`` set wins, with one warning naming both when
``OTEL_TRACES_SAMPLER`` is set too; only ``OTEL_TRACES_SAMPLER`` set, traceroot passes no sampler
and the SDK's is used; a provider the app set keeps its own sampler, with one warning if
``TRACEROOT_SAMPLE_RATE`` is set. ``doctor`` says which.
"""

from __future__ import annotations

import json
import logging

import pytest

from traceroot import config, logs, sampling

from .conftest import run_python, run_script


def _rule(env: dict[str, str]) -> tuple[float | None, str]:
    return sampling.sampling_rule(config.load(env=env), env=env)


def test_neither_set_keeps_every_trace() -> None:
    assert _rule({}) == (None, "every trace kept (the SDK's default, parent-based always on)")


def test_only_the_otel_sampler_is_left_to_the_sdk() -> None:
    env = {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    assert _rule(env) == (
        None,
        "OTEL_TRACES_SAMPLER=traceidratio (OTEL_TRACES_SAMPLER_ARG=0.1), read by the "
        "OpenTelemetry SDK",
    )


@pytest.mark.parametrize("rate", ["0.25", "1"])
def test_traceroot_sample_rate_wins_over_the_otel_sampler(
    rate: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"TRACEROOT_SAMPLE_RATE": rate, "OTEL_TRACES_SAMPLER": "always_off"}
    logs._seen.discard("sample:both")
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        kept, shown = sampling.sampling_rule(config.load(env=env), env=env, warn=True)
        sampling.sampling_rule(config.load(env=env), env=env, warn=True)
    assert kept == float(rate)
    assert shown == (
        f"TRACEROOT_SAMPLE_RATE={float(rate)}: parent-based, by trace id "
        "(OTEL_TRACES_SAMPLER=always_off not used)"
    )
    (warning,) = [r.getMessage() for r in caplog.records if "OTEL_TRACES_SAMPLER" in r.getMessage()]
    assert warning == (
        f"traceroot: both TRACEROOT_SAMPLE_RATE={float(rate)} and "
        f"OTEL_TRACES_SAMPLER=always_off are set; traceroot's sampler keeps {float(rate)} of "
        "traces and OTEL_TRACES_SAMPLER is not used"
    )


SAMPLER = """
import traceroot
from opentelemetry import trace
traceroot.instrument(exporter="none")
print("SAMPLER", trace.get_tracer_provider().sampler.get_description())
"""


def test_the_sampler_of_traceroots_provider() -> None:
    only_otel = run_script(SAMPLER, env={"OTEL_TRACES_SAMPLER": "always_off"})
    assert only_otel.returncode == 0, only_otel.stderr
    assert "SAMPLER AlwaysOffSampler" in only_otel.stdout
    assert "OTEL_TRACES_SAMPLER" not in only_otel.stderr

    both = run_script(
        SAMPLER, env={"OTEL_TRACES_SAMPLER": "always_off", "TRACEROOT_SAMPLE_RATE": "0.5"}
    )
    assert both.returncode == 0, both.stderr
    assert "SAMPLER ParentBased{root:TraceIdRatioBased{0.5}" in both.stdout
    assert both.stderr.count("OTEL_TRACES_SAMPLER=always_off are set") == 1


def test_a_joined_provider_keeps_its_sampler_and_says_so() -> None:
    result = run_script(
        """
import traceroot
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
trace.set_tracer_provider(TracerProvider(sampler=ALWAYS_OFF))
traceroot.instrument(exporter="none")
print("SAMPLING", traceroot.pipeline.active().sampling)
""",
        env={"TRACEROOT_SAMPLE_RATE": "0.5"},
    )
    assert result.returncode == 0, result.stderr
    assert "SAMPLING AlwaysOffSampler, the app's tracer provider's" in result.stdout
    assert (
        "TRACEROOT_SAMPLE_RATE is ignored: the app's own tracer provider decides sampling "
        "(its sampler: AlwaysOffSampler; under opentelemetry-instrument, set OTEL_TRACES_SAMPLER)"
    ) in result.stderr


def test_doctor_shows_the_sampling_in_force() -> None:
    result = run_python(
        ["-m", "traceroot.cli", "doctor", "--json"],
        env={"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.3"},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sampling"] == (
        "OTEL_TRACES_SAMPLER=parentbased_traceidratio (OTEL_TRACES_SAMPLER_ARG=0.3), read by the "
        "OpenTelemetry SDK"
    )
    assert report["provider"].startswith("traceroot would set its own tracer provider")
