"""The ``Resource`` of the provider traceroot sets up: the SDK's own ``Resource.create()``, with
its detectors run in line when they are the SDK's built-in ones that only read the process.

``Resource.create()`` runs its detectors in a thread pool (a detector may query a cloud metadata
endpoint and must not hold start-up for more than its timeout). The detectors it runs unless
``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS`` names others read environment variables
(``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SERVICE_NAME``) and make a random instance id: for them the
pool costs more than the work (importing ``concurrent.futures.thread`` and starting a thread per
detector, 2-7 ms at start-up), and cannot time out. So the SDK's ``create()`` runs as it is, on a
copy of its module's namespace in which the aggregation runs those detectors in line; a detector of
any other kind goes to the SDK's own pooled aggregation. Whatever the SDK version decides about
the default detectors, the service name and the merge order, the result is what
``Resource.create()`` returns (a test compares them across environment set-ups).
"""

from __future__ import annotations

import logging
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource, ResourceDetector

# The detectors known to finish at once (no I/O): the SDK's own, by exact type. A subclass may
# detect anything, so it is not one of them.
_IN_LINE_DETECTORS = ("OTELResourceDetector", "ServiceInstanceIdResourceDetector")


def create_resource() -> Resource:
    """What ``Resource.create()`` returns, without its thread pool where it is not needed."""
    from opentelemetry.sdk import resources

    create = resources.Resource.create  # a staticmethod: the plain function
    if not isinstance(create, types.FunctionType) or (
        "get_aggregated_resources" not in create.__code__.co_names
    ):
        return resources.Resource.create()  # an SDK of another shape: as it is
    namespace = dict(vars(resources))
    namespace["get_aggregated_resources"] = _aggregated_in_line
    in_line = types.FunctionType(
        create.__code__, namespace, create.__name__, create.__defaults__, create.__closure__
    )
    in_line.__kwdefaults__ = create.__kwdefaults__
    resource: Resource = in_line()
    return resource


def _aggregated_in_line(
    detectors: Sequence[ResourceDetector],
    initial_resource: Resource | None = None,
    timeout: int = 5,
) -> Resource:
    """``get_aggregated_resources`` for detectors that finish at once: each detected in turn and
    merged in order, a failure logged and skipped (raised with ``raise_on_error``), as the SDK's
    pooled version does; any other detector, the SDK's own."""
    from opentelemetry.sdk import resources

    in_line = tuple(getattr(resources, name, None) for name in _IN_LINE_DETECTORS)
    if not all(type(detector) in in_line for detector in detectors):
        return resources.get_aggregated_resources(detectors, initial_resource, timeout)
    merged = initial_resource or resources.Resource.create()
    empty = resources.Resource.get_empty()
    for detector in detectors:
        detected: Any = empty
        try:
            detected = detector.detect()
        except Exception as error:
            if detector.raise_on_error:
                raise
            _sdk_logger(resources).warning("Exception %s in detector %s, ignoring", error, detector)
        merged = merged.merge(detected)
    return merged


def _sdk_logger(module: types.ModuleType) -> logging.Logger:
    found = getattr(module, "logger", None)
    return found if isinstance(found, logging.Logger) else logging.getLogger(module.__name__)
