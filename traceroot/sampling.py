"""Which sampler traceroot's own provider gets: ``TRACEROOT_SAMPLE_RATE`` and
``OTEL_TRACES_SAMPLER`` never silently override each other."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from traceroot.config import SAMPLE_RATE, Settings
from traceroot.logs import warn_once


def sample_rate_set(settings: Settings, env: Mapping[str, str] | None = None) -> bool:
    """Whether a sample rate was given: a rate below 1, or ``TRACEROOT_SAMPLE_RATE`` set to a
    number (a bad value, warned about where it is read, gives way to ``OTEL_TRACES_SAMPLER``)."""
    env = os.environ if env is None else env
    if settings.sample_rate < 1.0:
        return True
    try:
        return math.isfinite(float((env.get(SAMPLE_RATE) or "").strip()))
    except ValueError:
        return False


def sampling_rule(
    settings: Settings, *, env: Mapping[str, str] | None = None, warn: bool = False
) -> tuple[float | None, str]:
    """The rate of the sampler traceroot gives its own provider (``None``: none, the SDK's
    default or ``OTEL_TRACES_SAMPLER`` applies) and a line saying which sampling is in force.

    ``TRACEROOT_SAMPLE_RATE`` wins when both it and ``OTEL_TRACES_SAMPLER`` are set (it is the
    more specific, traceroot's own), with one warning naming both; neither silently overrides
    the other.
    """
    from opentelemetry.sdk.environment_variables import OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG

    env = os.environ if env is None else env
    otel = (env.get(OTEL_TRACES_SAMPLER) or "").strip()
    if otel:
        argument = (env.get(OTEL_TRACES_SAMPLER_ARG) or "").strip()
        otel = f"{OTEL_TRACES_SAMPLER}={otel}"
        if argument:
            otel += f" ({OTEL_TRACES_SAMPLER_ARG}={argument})"
    if sample_rate_set(settings, env):
        rate = settings.sample_rate
        if otel and warn:
            warn_once(
                "sample:both",
                "traceroot: both %s=%s and %s are set; traceroot's sampler keeps %s of traces "
                "and %s is not used",
                SAMPLE_RATE,
                rate,
                otel,
                rate,
                OTEL_TRACES_SAMPLER,
            )
        shown = f"{SAMPLE_RATE}={rate}: parent-based, by trace id"
        return rate, shown + (f" ({otel} not used)" if otel else "")
    if otel:
        return None, f"{otel}, read by the OpenTelemetry SDK"
    return None, "every trace kept (the SDK's default, parent-based always on)"
