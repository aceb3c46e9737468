"""The wrapper of ``BaseClient._make_api_call``, the one place every botocore API call passes.

Kept small on purpose: it is imported when botocore is, and runs for every AWS call of the
process. Only the Bedrock runtime's model operations go on to :mod:`.calls`, imported then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from traceroot.integrations.base import BaseIntegration, Wrapper

SERVICE: Final = "bedrock-runtime"
MODEL_OPERATIONS: Final = frozenset(
    ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")
)


def make_api_call(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        operation = args[0] if args else kwargs.get("operation_name")
        if operation not in MODEL_OPERATIONS or _service(instance) != SERVICE:
            return wrapped(*args, **kwargs)
        from traceroot.integrations.bedrock import calls

        return calls.traced(wrapped, instance, operation, args, kwargs)

    return wrapper


def _service(client: Any) -> object:
    try:
        return client.meta.service_model.service_name
    except AttributeError:
        return None
