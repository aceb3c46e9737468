"""What the package promises a user who installs it, read from the files that promise it.

pyproject's metadata (licence, URLs, classifiers), each extra's bounds, each integration's declared
``supported`` range, the README's tables and the ``lowest`` tox env's pins all say which versions
traceroot works with; these tests parse each of them and fail when two disagree.
"""

from __future__ import annotations

import configparser
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from trove_classifiers import classifiers as known_classifiers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT: dict[str, Any] = PYPROJECT["project"]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _requirements(texts: list[str]) -> dict[str, Requirement]:
    parsed = [Requirement(text) for text in texts]
    return {requirement.name: requirement for requirement in parsed if not requirement.marker}


EXTRAS = {name: _requirements(texts) for name, texts in PROJECT["optional-dependencies"].items()}
DEPENDENCIES = _requirements(PROJECT["dependencies"])


def _table(header: str) -> list[list[str]]:
    """The rows of the README table whose header line starts with ``header``, as cells."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _ranges(cell: str) -> dict[str, SpecifierSet]:
    """``"langchain-core >=1.0,<2; langgraph >=1.0"`` -> each package's range."""
    found = {}
    for part in filter(None, (piece.strip() for piece in cell.split(";"))):
        name, _, spec = part.partition(" ")
        found[name] = SpecifierSet(spec)
    return found


def _integrations() -> dict[str, type]:
    """Every integration pyproject registers, as its class (importing no framework)."""
    found = {}
    for name, target in PROJECT["entry-points"]["traceroot.integrations"].items():
        module, _, attribute = target.partition(":")
        found[name] = getattr(importlib.import_module(module), attribute)
    return found


INTEGRATIONS = _integrations()
VERSIONED = sorted(name for name, cls in INTEGRATIONS.items() if cls.distribution)
README_INTEGRATIONS = {row[0].strip("`"): row for row in _table("| integration |")}


def test_the_licence_file_is_the_apache_licence_the_metadata_names() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    assert "END OF TERMS AND CONDITIONS" in text
    assert "Copyright traceroot developers" in text
    assert "[yyyy]" not in text


def test_every_classifier_is_a_known_trove_classifier() -> None:
    unknown = [c for c in PROJECT["classifiers"] if c not in known_classifiers]
    assert not unknown
    assert len(set(PROJECT["classifiers"])) == len(PROJECT["classifiers"])


def test_classifiers_say_what_the_package_is() -> None:
    declared = set(PROJECT["classifiers"])
    assert [c for c in declared if c.startswith("Development Status ::")]
    assert {
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Topic :: System :: Monitoring",
        "Topic :: Software Development :: Libraries",
        "Framework :: OpenTelemetry",
    } <= declared


def floor_version(spec: str) -> str:
    (clause,) = [s for s in SpecifierSet(spec) if s.operator == ">="]
    return clause.version


def test_classifiers_name_each_python_the_package_claims_from_its_floor() -> None:
    versions = sorted(
        int(c.rsplit(".", 1)[1])
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert versions == list(range(versions[0], versions[-1] + 1))
    assert f"3.{versions[0]}" == floor_version(PROJECT["requires-python"])


def test_project_urls_are_https_and_name_the_usual_places() -> None:
    urls = PROJECT["urls"]
    assert {"Homepage", "Documentation", "Repository", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Issues"].startswith(urls["Repository"])


@pytest.mark.parametrize("name", VERSIONED)
def test_the_extra_the_integration_and_the_readme_give_one_range(name: str) -> None:
    integration = INTEGRATIONS[name]
    supported = SpecifierSet(integration.supported)
    row = README_INTEGRATIONS.get(name)
    assert row is not None, f"no row for {name} in the README's integrations table"
    install, readme_cell = row[-2], row[-1]
    extra = getattr(integration, "extra", "") or name.replace("_", "-")
    assert install == f"`traceroot[{extra}]`", name
    requirements = EXTRAS.get(extra)
    assert requirements, f"no extra {extra!r} for the {name} integration"

    readme = _ranges(readme_cell)
    assert readme.get(integration.distribution) == supported, (name, readme_cell)
    for package, spec in readme.items():  # other packages the README names: the extra's range
        assert package in requirements, (name, package)
        assert requirements[package].specifier == spec, (name, package)

    telemetry = getattr(integration, "telemetry_distribution", "")
    if telemetry:
        assert telemetry in requirements, f"traceroot[{extra}] does not install {telemetry}"
    if integration.distribution in requirements:
        assert requirements[integration.distribution].specifier == supported, name
    else:  # the framework is the user's to install; the extra brings its telemetry package
        assert telemetry, (
            f"traceroot[{extra}] installs neither {integration.distribution} nor telemetry"
        )


def test_every_integration_has_a_readme_row_and_every_row_an_integration() -> None:
    assert set(README_INTEGRATIONS) == set(INTEGRATIONS)


def test_an_extra_naming_another_extra_names_one_that_exists() -> None:
    for name, texts in PROJECT["optional-dependencies"].items():
        for text in texts:
            requirement = Requirement(text)
            if requirement.name == PROJECT["name"]:
                assert requirement.extras <= set(EXTRAS), name


def test_the_readme_gives_the_core_requirements_pyproject_declares() -> None:
    rows = _table("| requirement |")
    readme = {}
    for names, spec in ((row[0], row[1]) for row in rows):
        for package in names.split(","):
            readme[package.strip().strip("`")] = SpecifierSet(spec)
    assert readme.pop("Python") == SpecifierSet(PROJECT["requires-python"])
    assert readme == {name: requirement.specifier for name, requirement in DEPENDENCIES.items()}


def _lowest_floors() -> dict[str, Version]:
    """Each package the ``lowest`` tox env pins (``==``), or bounds below only (``>=``, where a
    test helper needs more than the floor), with that version."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    found = {}
    for line in tox["testenv:lowest"]["deps"].splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("{"):
            clauses = list(Requirement(line).specifier)
            if len(clauses) == 1 and clauses[0].operator in ("==", ">="):
                found[Requirement(line).name] = Version(clauses[0].version)
    return found


def test_the_lowest_env_installs_each_floor_pyproject_declares() -> None:
    floors = {}
    for requirements in (
        DEPENDENCIES,
        EXTRAS["openai"],
        EXTRAS["langchain"],
        EXTRAS["llama-index"],
    ):
        for name, requirement in requirements.items():
            floors[name] = Version(floor_version(str(requirement.specifier)))
    lowest = _lowest_floors()
    assert {name: lowest.get(name) for name in floors} == floors
