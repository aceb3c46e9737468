"""Plugin discovery: traceroot's own integrations known without an entry-point scan, any other
package's still found, and the quick pass never less complete than importlib.metadata."""

from __future__ import annotations

import importlib
import json
import os
import zipfile
from importlib import metadata
from importlib.machinery import PathFinder
from pathlib import Path

import opentelemetry
import pytest
import typing_extensions

import traceroot
from traceroot.integrations.discovery import (
    BUILT_IN,
    GROUP,
    BuiltIn,
    others_may_register,
    trigger_modules,
)

from .conftest import run_python


def _distribution(site: Path, folder: str, entry_points: str | None) -> None:
    info = site / folder
    info.mkdir(parents=True)
    name, _, version = folder.rsplit(".", 1)[0].partition("-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


PLUGIN_ENTRY = f"[{GROUP}]\nacme = acme_plugin:AcmeIntegration\n"
OTHER_ENTRY = "[console_scripts]\nacme = acme.cli:main\n"


def _declared_by_metadata(site: Path) -> set[str]:
    """What importlib.metadata finds in the group on ``site`` alone, but traceroot's own."""
    return {
        entry_point.name
        for distribution in metadata.distributions(path=[str(site)])
        if distribution.metadata["Name"] != "traceroot"
        for entry_point in distribution.entry_points.select(group=GROUP)
    }


def test_built_in_table_is_what_the_package_registers() -> None:
    installed = metadata.distribution("traceroot").entry_points.select(group=GROUP)
    registered = {entry.name: entry.value for entry in installed}
    assert registered == {name: value for name, (value, _) in BUILT_IN.items()}


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_trigger_modules_are_what_each_plugin_declares(name: str) -> None:
    # The registry waits for the table's modules before it loads the plugin: the two can never
    # differ, or a framework would be imported and not patched.
    value, modules = BUILT_IN[name]
    plugin = BuiltIn(name, value).load()
    assert (plugin.name, plugin.modules) == (name, modules)
    assert trigger_modules(BuiltIn(name, value)) == modules


@pytest.mark.parametrize(
    ("distributions", "expected"),
    [
        ([], False),
        ([("traceroot-1.0.dist-info", PLUGIN_ENTRY)], False),  # our own: listed in BUILT_IN
        ([("traceroot.egg-info", PLUGIN_ENTRY)], False),
        ([("acme-2.0.dist-info", OTHER_ENTRY)], False),
        ([("acme-2.0.dist-info", None)], False),
        ([("acme-2.0.dist-info", PLUGIN_ENTRY)], True),
        ([("Acme_Plugin-2.0.DIST-INFO", PLUGIN_ENTRY)], True),
        ([("acme.egg-info", PLUGIN_ENTRY)], True),
        # a name that starts like ours is someone else's
        ([("traceroot_toy_plugin-1.2.0.dist-info", PLUGIN_ENTRY)], True),
        ([("traceroot-1.0.dist-info", PLUGIN_ENTRY), ("acme-2.0.dist-info", OTHER_ENTRY)], False),
    ],
)
def test_quick_pass_agrees_with_importlib_metadata(
    tmp_path: Path, distributions: list[tuple[str, str | None]], expected: bool
) -> None:
    for folder, entry_points in distributions:
        _distribution(tmp_path, folder, entry_points)
    assert others_may_register([str(tmp_path)], [PathFinder]) is expected
    assert bool(_declared_by_metadata(tmp_path)) is expected


def test_what_the_quick_pass_cannot_read_goes_to_the_full_scan(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("acme-2.0.dist-info/entry_points.txt", PLUGIN_ENTRY)
    egg = tmp_path / "acme-2.0-py3.11.egg"
    egg.mkdir()

    class DistributionFinder:
        @staticmethod
        def find_distributions(context: object = None) -> list[object]:
            return []

    assert others_may_register([str(archive)], [PathFinder]) is True
    assert others_may_register([str(egg)], [PathFinder]) is True
    assert others_may_register([str(tmp_path / "missing")], [PathFinder]) is False
    assert others_may_register([], [DistributionFinder(), PathFinder]) is True
    assert others_may_register([], [object(), PathFinder]) is False
    # the importlib_metadata backport's finder reads sys.path as the standard one does
    backport = type(
        "MetadataPathFinder", (DistributionFinder,), {"__module__": "importlib_metadata"}
    )
    assert others_may_register([], [backport(), PathFinder]) is False


PROBE = """
import json, sys
import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export
by_opentelemetry = "importlib.metadata" in sys.modules  # older versions read their entry points
import traceroot
traceroot.instrument()
read_metadata = "importlib.metadata" in sys.modules  # before the status, which reads versions
from traceroot.integrations import discovery
scan = discovery.others_may_register(sys.path, sys.meta_path)
status = {s.name: str(s.state) for s in traceroot.integrations_status()}
print(json.dumps({"status": status, "metadata": read_metadata and not by_opentelemetry,
                  "scan": scan}))
"""


def _isolated_site(tmp_path: Path) -> Path:
    """A site holding only what `import traceroot; instrument()` needs, and no metadata."""
    site = tmp_path / "site"
    site.mkdir()
    for module in (traceroot, opentelemetry):
        for folder in {str(Path(p)) for p in module.__path__}:
            os.symlink(folder, site / Path(folder).name)
    typing_file = Path(typing_extensions.__file__)
    os.symlink(typing_file, site / typing_file.name)
    # Older OpenTelemetry loads its context through its own entry points: its metadata is needed
    # (it declares no traceroot plugin), and on Python 3.10 the importlib_metadata backport.
    for distribution in ("opentelemetry-api", "opentelemetry-sdk"):
        try:
            found = metadata.distribution(distribution)
        except metadata.PackageNotFoundError:
            continue
        info = Path(str(getattr(found, "_path", "")))  # a PathDistribution's dist-info folder
        if info.is_dir() and info.name.endswith(".dist-info"):
            os.symlink(info, site / info.name)
    for name in ("importlib_metadata", "zipp"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        source = Path(module.__file__ or "")
        folder = source.parent if source.name == "__init__.py" else source
        os.symlink(folder, site / folder.name)
    return site


def _probe(site: Path, cwd: Path) -> dict[str, object]:
    # -S: no site-packages, so the only distributions are those the test put on the path.
    result = run_python(
        ["-S", "-c", PROBE],
        env={"PYTHONPATH": str(site), "TRACEROOT_EXPORTER": "none"},
        cwd=str(cwd),
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_without_other_plugins_no_metadata_is_read(tmp_path: Path) -> None:
    site = _isolated_site(tmp_path)
    out = _probe(site, tmp_path)
    assert out["scan"] is False, out
    assert out["metadata"] is False
    status = out["status"]
    assert isinstance(status, dict)
    assert set(status) == set(BUILT_IN)  # found with no installed metadata of traceroot's own
    assert status["threading"] == "active"
    assert status["openai"] == "waiting for import"


def test_another_package_s_plugin_is_still_found(tmp_path: Path) -> None:
    site = _isolated_site(tmp_path)
    (site / "acme_plugin.py").write_text(
        "from traceroot.integrations.base import BaseIntegration\n"
        "class AcmeIntegration(BaseIntegration):\n"
        "    name = 'acme'\n"
        "    modules = ('acme_framework',)\n"
        "    targets = ()\n"
    )
    _distribution(site, "acme_plugin-2.0.dist-info", PLUGIN_ENTRY)
    out = _probe(site, tmp_path)
    status = out["status"]
    assert isinstance(status, dict)
    assert status["acme"] == "waiting for import"
    assert set(BUILT_IN) <= set(status)
