"""traceroot's processor in the SDK's trace provider, and the SDK's own exporting processor out of
it unless the user chose it (see the package docstring for the rule)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.openai_agents.processor import TracerootProcessor


@functools.cache
def processor() -> TracerootProcessor:
    """The one processor of the process."""
    return TracerootProcessor()


class _Installed:
    """Where the processor went, and what was taken out to put it there."""

    def __init__(self) -> None:
        self.provider: Any = None
        self.removed: Any = None  # the SDK's default processor, when traceroot took it out
        self.created = False  # traceroot made the SDK's provider (none existed yet)
        # Providers of the user's own kind traceroot's processor was registered with: they list
        # no processors, so it cannot be taken out again, only switched off (and not added twice).
        self.joined: list[Any] = []


_installed = _Installed()


def install() -> None:
    from agents.tracing import processors as sdk_processors
    from agents.tracing import set_trace_provider, setup
    from agents.tracing.provider import DefaultTraceProvider

    ours = processor()
    ours.enabled = True
    provider = setup.GLOBAL_TRACE_PROVIDER
    if provider is None:
        # The SDK makes its provider, with its exporting processor, on first use: make it now
        # without that processor (and without the HTTP client it opens).
        provider = DefaultTraceProvider()
        provider.register_processor(ours)
        set_trace_provider(provider)
        _installed.provider, _installed.removed, _installed.created = provider, None, True
        return
    _installed.provider, _installed.removed, _installed.created = provider, None, False
    current = registered(provider)
    default = sdk_processors._global_processor
    exporter = sdk_processors._global_exporter
    chosen_export = exporter is not None and bool(getattr(exporter, "_api_key", None))
    if current == [default] and default is not None and not chosen_export:
        provider.set_processors([ours])
        _installed.removed = default
    elif current is None:
        if not any(each is provider for each in _installed.joined):
            provider.register_processor(ours)
            _installed.joined.append(provider)
    elif ours not in current:
        provider.register_processor(ours)


def remove() -> None:
    ours = processor()
    ours.enabled = False
    provider = _installed.provider
    if provider is None:
        return
    found = registered(provider)
    if found is None:
        ours.forget()
        _installed.provider = None
        return
    current = [each for each in found if each is not ours]
    if _installed.created or _installed.removed is not None:
        from agents.tracing.processors import default_processor

        default = _installed.removed or default_processor()
        if default not in current:
            current.insert(0, default)
    provider.set_processors(current)
    ours.forget()
    _installed.provider, _installed.removed, _installed.created = None, None, False


def registered(provider: Any) -> list[Any] | None:
    """The processors of the SDK's default provider (``None`` for a provider of another kind)."""
    found = getattr(getattr(provider, "_multi_processor", None), "_processors", None)
    return list(found) if isinstance(found, tuple) else None


def set_processors(integration: BaseIntegration) -> Wrapper:
    """``set_trace_processors`` replaces the provider's list: traceroot's processor stays in it
    (the user's processors replace the others, as they asked)."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        result = wrapped(*args, **kwargs)
        ours = processor()
        if ours.enabled and instance is _installed.provider:
            current = registered(instance)
            if current is not None and ours not in current:
                instance.register_processor(ours)
        return result

    return wrapper
