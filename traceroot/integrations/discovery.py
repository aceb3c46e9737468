"""Which plugins are installed, without reading every distribution's metadata when none but ours.

traceroot's own integrations are listed here, so they are known without an entry-point scan:
``importlib.metadata`` costs 15-20 ms to import and 10-15 ms per scan of a typical environment,
more than the rest of ``instrument()``. The list also names the modules that trigger each one, so
that its own module (5-7 ms for all of them) loads only with its framework. Third-party plugins
are still found: a quick pass over the directories on ``sys.path`` looks for any other
distribution whose ``entry_points.txt`` names the group, and only then is the full scan run (and
with it, ``importlib.metadata``'s own rules decide which distribution provides each name).
Anything the quick pass cannot read as plain directories (a zip or egg on the path, a finder that
supplies distributions of its own) takes the full scan too, so the answer is never less complete
than ``importlib.metadata.entry_points``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from importlib.machinery import PathFinder
from typing import Any, Final, Protocol

from traceroot.guard import report
from traceroot.integrations.names import normalize_name

GROUP: Final = "traceroot.integrations"
_OWN_DISTRIBUTION: Final = "traceroot"
_METADATA_SUFFIXES: Final = (".dist-info", ".egg-info")

# name: (the plugin class, the modules whose import triggers it). The classes are kept equal to
# the group's table in pyproject.toml and the trigger modules to each class's ``modules`` (tests
# hold them together): the registry waits for these imports before it loads the plugin's module,
# so instrument() imports no integration of traceroot's whose framework the app has not imported.
BUILT_IN: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "agent_framework": (
        "traceroot.integrations.agent_framework:AgentFrameworkIntegration",
        ("agent_framework",),
    ),
    "agno": ("traceroot.integrations.agno:AgnoIntegration", ("agno",)),
    "anthropic": ("traceroot.integrations.anthropic:AnthropicIntegration", ("anthropic",)),
    "autogen": ("traceroot.integrations.autogen:AutoGenIntegration", ("autogen_agentchat",)),
    "bedrock": ("traceroot.integrations.bedrock:BedrockIntegration", ("botocore",)),
    "claude_agent_sdk": (
        "traceroot.integrations.claude_agent_sdk:ClaudeAgentSDKIntegration",
        ("claude_agent_sdk",),
    ),
    "crewai": ("traceroot.integrations.crewai:CrewAIIntegration", ("crewai",)),
    "dspy": ("traceroot.integrations.dspy:DSPyIntegration", ("dspy",)),
    "google_adk": ("traceroot.integrations.google_adk:GoogleADKIntegration", ("google.adk",)),
    "google_genai": (
        "traceroot.integrations.google_genai:GoogleGenAIIntegration",
        ("google.genai",),
    ),
    "groq": ("traceroot.integrations.groq:GroqIntegration", ("groq",)),
    "langchain": ("traceroot.integrations.langchain:LangChainIntegration", ("langchain_core",)),
    "litellm": ("traceroot.integrations.litellm:LiteLLMIntegration", ("litellm",)),
    "llama_index": (
        "traceroot.integrations.llama_index:LlamaIndexIntegration",
        ("llama_index.core",),
    ),
    "mistral": ("traceroot.integrations.mistral:MistralIntegration", ("mistralai.client",)),
    "openai": ("traceroot.integrations.openai:OpenAIIntegration", ("openai",)),
    "openai_agents": ("traceroot.integrations.openai_agents:OpenAIAgentsIntegration", ("agents",)),
    "pydantic_ai": ("traceroot.integrations.pydantic_ai:PydanticAIIntegration", ("pydantic_ai",)),
    "smolagents": ("traceroot.integrations.smolagents:SmolagentsIntegration", ("smolagents",)),
    "threading": ("traceroot.integrations.threading:ThreadingIntegration", ("threading",)),
}
_TRIGGERS: Final = dict(BUILT_IN.values())


class BuiltIn:
    """One of traceroot's own plugins, loaded as its entry point would be."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def load(self) -> Any:
        module_name, _, attribute = self.value.partition(":")
        return getattr(importlib.import_module(module_name), attribute)

    def __repr__(self) -> str:
        return f"BuiltIn({self.name!r}, {self.value!r})"


def trigger_modules(plugin: PluginReference) -> tuple[str, ...] | None:
    """The modules whose import triggers ``plugin`` if it is one of traceroot's own (from the
    table, or from traceroot's installed entry points), known without loading it; else ``None``."""
    return _TRIGGERS.get(plugin.value)


class PluginReference(Protocol):
    """What the registry needs of an entry point: its target, and a way to load it."""

    @property
    def value(self) -> str: ...

    def load(self) -> Any: ...


def discover() -> dict[str, PluginReference]:
    """Every plugin of the group by normalised name: traceroot's own and any installed package's."""
    found: dict[str, PluginReference] = {}
    try:
        scan = others_may_register(sys.path, sys.meta_path)
    except Exception:  # noqa: BLE001 - an odd path entry: the full scan decides
        scan = True
    if scan:
        try:
            from importlib import metadata

            for entry_point in metadata.entry_points(group=GROUP):
                found.setdefault(normalize_name(entry_point.name), entry_point)
        except Exception as error:  # noqa: BLE001 - traceroot's own integrations still load
            report("integration discovery", error)
    # Also where traceroot runs from a source tree, with no installed metadata of its own.
    for name, (value, _) in BUILT_IN.items():
        found.setdefault(name, BuiltIn(name, value))
    return found


def others_may_register(paths: Iterable[object], finders: Iterable[object]) -> bool:
    """False only when no distribution but traceroot's own on ``paths`` can register a plugin."""
    if any(_supplies_distributions(finder) for finder in finders):
        return True
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            return True  # an entry of another kind (bytes): importlib.metadata decides
        directory = os.fspath(path) or "."
        if not isinstance(directory, str):
            return True
        if directory.lower().endswith(".egg"):
            return True  # an egg keeps its metadata in EGG-INFO: leave it to importlib.metadata
        try:
            children = os.scandir(directory)
        except NotADirectoryError:
            return True  # a zip on the path
        except OSError:
            continue  # a path entry that does not exist is skipped by importlib.metadata too
        with children:
            for child in children:
                if _declares_group(child.name, child.path):
                    return True
    return False


def _supplies_distributions(finder: object) -> bool:
    # The standard path finder reads sys.path, as the quick pass does, and so does the
    # importlib_metadata backport's (which installs itself when imported, as older OpenTelemetry
    # does on Python 3.10); any other finder with distributions of its own (an import hook
    # serving packages from elsewhere) is asked in full.
    if finder is PathFinder or _is_backport_path_finder(finder):
        return False
    return callable(getattr(finder, "find_distributions", None))


def _is_backport_path_finder(finder: object) -> bool:
    kind = type(finder)
    return kind.__name__ == "MetadataPathFinder" and kind.__module__ == "importlib_metadata"


def _declares_group(name: str, path: str) -> bool:
    lowered = name.lower()
    if not lowered.endswith(_METADATA_SUFFIXES):
        return False
    # "traceroot-1.0.dist-info", "traceroot.egg-info": the project name ends at the first "-".
    project = lowered.rpartition(".")[0].partition("-")[0]
    if project.replace("_", "-").replace(".", "-") == _OWN_DISTRIBUTION:
        return False  # traceroot's own, listed in BUILT_IN
    try:
        with open(os.path.join(path, "entry_points.txt"), "rb") as file:
            declared = file.read()
    except OSError:
        return False  # no entry points (or a one-file .egg-info)
    # A plain substring: a false match only costs the full scan, never a missed plugin.
    return GROUP.encode() in declared
