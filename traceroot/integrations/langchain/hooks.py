"""The two hooks: the handler in every callback manager; a run's span current in its runnable's
context."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context

from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Replacer
from traceroot.integrations.langchain.handler import TracerootHandler

_removing = contained("langchain.remove_handler")
_entering = contained("langchain.run_context")


@functools.cache
def handler() -> TracerootHandler:
    """The one handler of the process, shared by every callback manager."""
    return TracerootHandler()


# Registered with LangChain once per process; a ContextVar's default is seen in every thread and
# task, so the handler reaches runs wherever they start.
_handler_var: ContextVar[TracerootHandler | None] | None = None


def add_handler_to_every_run() -> None:
    """Have LangChain add the handler to every callback manager it configures."""
    global _handler_var
    from langchain_core.tracers.context import register_configure_hook

    tracer = handler()
    tracer.enabled = True
    if _handler_var is None:
        _handler_var = ContextVar("traceroot_langchain_handler", default=tracer)
        register_configure_hook(_handler_var, inheritable=True)


def remove_handler() -> None:
    """Undo :func:`add_handler_to_every_run`. Managers configured meanwhile may keep the handler,
    so it is also made inert."""
    global _handler_var
    handler().enabled = False
    with _removing:
        from langchain_core.tracers import context as tracer_context

        hooks = tracer_context._configure_hooks
        hooks[:] = [hook for hook in hooks if hook[0] is not _handler_var]
        _handler_var = None


def set_config_context(integration: BaseIntegration) -> Replacer:
    """LangChain's ``_set_config_context`` (and LangGraph's copy), then the run's span made current
    in the context it was called in. Called directly, not through a wrapper: it runs for every
    step of every chain."""
    tracer = handler()

    def replace(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def _set_config_context(config: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(config, *args, **kwargs)
            try:  # an inline guard, not a with-block
                run_context = tracer.enter(config)
                if run_context is not None:
                    # This runs inside the copy of the context that LangChain made for the
                    # runnable and drops afterwards (that is how it sets its own variables here),
                    # so the value lives exactly as long as the runnable's execution: no token.
                    otel_context.attach(run_context)
            except Exception as error:  # noqa: BLE001 - contained like any guarded block
                _entering.failed(error)
            return result

        return _set_config_context

    return replace
