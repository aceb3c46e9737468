"""Find integrations through entry points, apply each when its framework is imported.

``instrument()`` finds the plugins (traceroot's own and any registered in the entry-point group,
see :mod:`discovery`), drops what the environment or the caller turned off, and waits for one of
each remaining plugin's trigger modules to be imported. The framework is patched then, in whichever
thread imports it, or at once if the app imported it already. Another package's plugin class (a
small module of theirs, never the framework) is loaded at ``instrument()`` to learn its trigger
modules; traceroot's own are known from :data:`discovery.BUILT_IN`, so their modules load with
their framework (or when asked for their status), not at start-up.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

from traceroot import config
from traceroot.guard import report
from traceroot.integrations import imports
from traceroot.integrations.discovery import PluginReference, discover, trigger_modules
from traceroot.integrations.names import requested_names
from traceroot.logs import logger, warn_once


class State(str, enum.Enum):
    ACTIVE = "active"
    WAITING = "waiting for import"
    DISABLED = "disabled"
    NOT_REQUESTED = "not requested"
    UNSUPPORTED = "unsupported version"
    FAILED = "failed"
    BYPASSED = "bypassed"
    NO_TELEMETRY = "telemetry package missing"
    MISSING = "no plugin installed"

    def __str__(self) -> str:
        return self.value


class IntegrationStatus(NamedTuple):
    """Where one integration stands; ``detail`` says why (the setting, the range, the error)."""

    name: str
    state: State
    detail: str = ""
    modules: tuple[str, ...] = ()
    distribution: str | None = None
    version: str | None = None
    supported: str = ""


class _Entry:
    __slots__ = ("detail", "entry_point", "hook", "modules", "name", "plugin", "retired", "state")

    def __init__(self, name: str, entry_point: PluginReference | None) -> None:
        self.name = name
        self.entry_point = entry_point
        self.plugin: Any = None
        # The trigger modules: the plugin's, or from the table while its class waits to load.
        self.modules: tuple[str, ...] = ()
        self.state = State.NOT_REQUESTED
        self.detail = ""
        # Set by uninstrument(): an import hook that fires later must not patch for this entry.
        self.retired = False
        self.hook = lambda module: _activate(self)


_lock = threading.RLock()
# Serialises whole instrument()/uninstrument() calls: racing threads must not leave a plugin
# patched that no entry knows of (its patches would stack under the next one's).
_switching = threading.RLock()
_entries: dict[str, _Entry] = {}


def instrument(names: Iterable[object] | None = None) -> None:
    """Turn on ``names`` (default: every discovered plugin) unless the environment disabled them."""
    with _switching:
        _instrument(names)


def _instrument(names: Iterable[object] | None) -> None:
    discovered = discover()
    chosen = requested_names(names, discovered)
    disabled = config.disabled_integrations()
    waiting: list[_Entry] = []
    with _lock:
        for name, entry_point in discovered.items():
            _entries.setdefault(name, _Entry(name, entry_point))
        for name in discovered if chosen is None else chosen:
            entry = _entries.setdefault(name, _Entry(name, discovered.get(name)))
            if entry.state in (State.ACTIVE, State.WAITING):
                continue  # instrumenting twice is harmless
            if name in disabled:
                entry.state, entry.detail = State.DISABLED, f"{disabled[name]} turned it off"
            elif entry.entry_point is None:
                entry.state, entry.detail = State.MISSING, "no installed package provides it"
                warn_once(
                    f"integration:missing:{name}",
                    "traceroot: integration %r is not provided by any installed package; skipped",
                    name,
                )
            else:
                entry.plugin = None  # a fresh plugin object each time it is turned on
                if not (_triggers_known(entry) or _load(entry)):
                    continue
                entry.state, entry.detail = State.WAITING, ""
                waiting.append(entry)
    # Outside the lock: a trigger module that is already imported activates right here.
    for entry in waiting:
        for module in entry.modules:
            imports.when_imported(module, entry.hook)


def _triggers_known(entry: _Entry) -> bool:
    """Whether the entry's trigger modules are known without loading its plugin (one of
    traceroot's own): then its module loads when its framework is imported."""
    assert entry.entry_point is not None
    modules = trigger_modules(entry.entry_point)
    if modules is None:
        return False
    entry.modules = modules
    return True


def _load(entry: _Entry) -> bool:
    """Load the entry's plugin; ``False`` (the entry failed, with one warning) if it cannot."""
    with _lock:  # status() and an import hook may ask for the same entry at once
        if entry.plugin is not None:
            return True
        assert entry.entry_point is not None
        try:
            plugin = entry.entry_point.load()()
            if not callable(getattr(plugin, "instrument", None)) or not plugin.modules:
                raise TypeError("a plugin needs `modules` and `instrument()`/`uninstrument()`")
        except Exception as error:  # noqa: BLE001 - one broken plugin must not stop the others
            if entry.state is State.WAITING:
                imports.cancel(entry.hook)  # its framework's import must not try again
            entry.state, entry.detail = State.FAILED, f"could not load: {error!r}"
            logger.warning(
                "traceroot: integration %r failed to load (%r); skipped", entry.name, error
            )
            return False
        entry.plugin = plugin
        entry.modules = tuple(plugin.modules)
        return True


def _activate(entry: _Entry) -> None:
    with _lock:
        if entry.state is not State.WAITING or entry.retired:
            return  # another trigger module got here first, or uninstrument() ran
        if not _load(entry):  # traceroot's own plugin module loads here, with its framework
            return
        entry.state = State.ACTIVE
    imports.cancel(entry.hook)  # the other trigger modules need not fire it again
    plugin = entry.plugin
    version = _unsupported_version(plugin)
    if version is not None:
        detail = f"{plugin.distribution} {version} is outside {plugin.supported}"
        _settle(entry, State.UNSUPPORTED, detail)
        logger.warning(
            "traceroot: %s %s is not supported by the %s integration (supported: %s); skipped",
            plugin.distribution,
            version,
            entry.name,
            plugin.supported,
        )
        return
    try:
        plugin.instrument()
    except Exception as error:  # noqa: BLE001 - recorded; the app's import goes on
        from traceroot.integrations.telemetry import TelemetryMissingError

        if isinstance(error, TelemetryMissingError):
            _settle(entry, State.NO_TELEMETRY, str(error))
            warn_once(
                f"integration:telemetry:{entry.name}",
                "traceroot: %s is imported but not traced: %s",
                entry.name,
                error,
            )
            return
        _settle(entry, State.FAILED, f"could not instrument: {error!r}")
        report(f"integration {entry.name}", error)
        return
    if _retired(entry):
        # uninstrument() ran while this import hook was patching (an import in another
        # thread): take the patches off again rather than leave them with no entry.
        _uninstrument_plugin(entry)


def _unsupported_version(plugin: Any) -> str | None:
    """The framework's installed version if the plugin does not support it, else ``None``."""
    if not (plugin.distribution and plugin.supported):
        return None  # nothing to check (threading, at every instrument(), takes this way)
    # importlib.metadata is loaded here, with the framework, never at instrument().
    from traceroot.integrations.versions import installed_version, satisfies

    version = installed_version(plugin.distribution)
    if version is None or satisfies(version, plugin.supported):
        return None
    return version


def _retired(entry: _Entry) -> bool:
    with _lock:
        return entry.retired


def _settle(entry: _Entry, state: State, detail: str) -> None:
    with _lock:
        if entry.state is State.ACTIVE:
            entry.state, entry.detail = state, detail


def uninstrument() -> None:
    """Remove every patch and every pending hook; integrations can be instrumented again."""
    with _switching:
        with _lock:
            entries = list(_entries.values())
            _entries.clear()
            for entry in entries:
                entry.retired = True
        for entry in entries:
            imports.cancel(entry.hook)
            if entry.state is State.ACTIVE:
                _uninstrument_plugin(entry)


def _uninstrument_plugin(entry: _Entry) -> None:
    if entry.plugin is None:
        return
    try:
        entry.plugin.uninstrument()
    except Exception as error:  # noqa: BLE001 - uninstrument the rest regardless
        report(f"uninstrument {entry.name}", error)


def telemetry_packages() -> set[str]:
    """The distributions traceroot's loaded integrations take their spans from (an
    instrumentor they run), by name."""
    with _lock:
        loaded = [_plugin(entry) for entry in _entries.values()]
    plugins = [plugin for plugin in loaded if plugin is not None]
    return {
        name
        for name in (getattr(plugin, "telemetry_distribution", "") for plugin in plugins)
        if isinstance(name, str) and name
    }


def status() -> list[IntegrationStatus]:
    """Each known integration (discovered or asked for) with its state, sorted by name."""
    with _lock:
        entries = sorted(_entries.values(), key=lambda entry: entry.name)
        return [_status(entry, _plugin(entry)) for entry in entries]


def _plugin(entry: _Entry) -> Any:
    """The entry's plugin, loaded now if it is one of traceroot's own still waiting for its
    framework (a status must say what the plugin declares); ``None`` if none was chosen."""
    if entry.plugin is None and entry.state is State.WAITING:
        _load(entry)
    return entry.plugin


def _status(entry: _Entry, plugin: Any) -> IntegrationStatus:
    state, detail = entry.state, entry.detail
    errors = getattr(plugin, "errors", None)
    if state is State.ACTIVE and errors:
        state, detail = State.FAILED, "; ".join(errors)
    missing = getattr(plugin, "missing_telemetry", None)
    distribution = getattr(plugin, "distribution", None)
    from traceroot.integrations.versions import installed_version

    version = installed_version(distribution) if distribution else None
    # Said only of an installed framework: one that is absent just waits for its import.
    if state is State.WAITING and callable(missing) and version is not None:
        hint = missing()  # a spec lookup, no import
        if hint:
            state, detail = State.NO_TELEMETRY, hint
    note = getattr(plugin, "note", "")
    if state is State.ACTIVE and not detail and isinstance(note, str):
        detail = note
    check = getattr(plugin, "bypassed", None)  # third-party plugins need not have it
    bypassed = check() if state is State.ACTIVE and callable(check) else []
    if bypassed:
        state = State.BYPASSED
        detail = (
            f"calls through {', '.join(bypassed)} make no span: another instrumentation "
            "replaced them after traceroot; instrument it before traceroot, or not at all"
        )
    return IntegrationStatus(
        name=entry.name,
        state=state,
        detail=detail,
        modules=tuple(getattr(plugin, "modules", ())),
        distribution=distribution,
        version=version,
        supported=getattr(plugin, "supported", ""),
    )
