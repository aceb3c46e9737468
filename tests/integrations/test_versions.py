"""An integration's supported range means what it means to pip: ``packaging`` decides, with
pre-releases counted as their release, and nothing about it costs ``import traceroot``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from traceroot.integrations.versions import installed_version, satisfies

from ..conftest import run_script

# Released versions against ranges: the answer is packaging's. The hand-written matcher this
# replaced got the six marked ones wrong.
RELEASES = [
    ("0.3.5", "==0.3.*"),  # was wrong: wildcards
    ("0.4.0", "==0.3.*"),
    ("1.0.post1", "==1.0"),  # was wrong: a post-release is not the release
    ("1.0.post1", ">1.0"),
    ("1!1.0", ">=2"),  # was wrong: epochs
    ("3.0", "===3.0"),  # was wrong: arbitrary equality
    ("1.4.2", "~=1.4"),
    ("1.5", "~=1.4.2"),
    ("1.4.9", "~=1.4.2"),
    ("1.0", "!=1.0.*"),
    ("1.1", "!=1.0.*"),
    ("1.0.post2", ">1.0.post1"),  # was wrong: post-releases compared
    ("1.0+ubuntu1", "==1.0"),
    ("1.0+ubuntu1", "==1.0+ubuntu2"),  # was wrong: local versions
    ("0.10.20", ">=0.10.20,<1"),
    ("0.10.19", ">=0.10.20,<1"),
    ("1.0", ">=1.0,<4"),
    ("4.0.0", ">=1.0,<4"),
    ("2.0", ""),
]


@pytest.mark.parametrize(("version", "spec"), RELEASES)
def test_a_release_is_inside_a_range_as_packaging_says(version: str, spec: str) -> None:
    assert satisfies(version, spec) is (Version(version) in SpecifierSet(spec))


@pytest.mark.parametrize(
    ("version", "spec", "inside"),
    [
        ("2.0.0rc1", "<2", False),  # it will be 2.0.0
        ("2.0.0rc1", ">=1.0,<3", True),
        ("1.5.0b1", ">=1.5", True),  # packaging alone: False
        ("1.5.0.dev3", ">=1.5", True),
        ("1.5.0a1", "==1.5.*", True),
        ("1.4.0rc2", ">=1.5", False),
        ("1.0rc1+local", "==1.0", True),
    ],
)
def test_a_pre_release_counts_as_its_release(version: str, spec: str, inside: bool) -> None:
    assert satisfies(version, spec) is inside


@pytest.mark.parametrize(
    ("version", "spec", "inside"),
    [
        ("2.1.0-custom", ">=2,<3", True),  # a vendor build: its leading release number
        ("2.1.0-custom", "<2", False),
        ("unknown", ">=1.0", False),
        ("", ">=1.0", False),
        ("1.0", ">=one", False),  # a plugin's range that is not a specifier
        ("1.0", "latest", False),
    ],
)
def test_what_packaging_cannot_parse_is_answered_without_raising(
    version: str, spec: str, inside: bool
) -> None:
    assert satisfies(version, spec) is inside


_parts = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p)))
_clauses = st.tuples(st.sampled_from([">=", "<=", ">", "<", "==", "!=", "~="]), _parts).filter(
    lambda clause: clause[0] != "~=" or "." in clause[1]
)


@given(_parts, st.lists(_clauses, min_size=1, max_size=3))
def test_agrees_with_packaging_on_any_release_and_range(
    version: str, clauses: list[tuple[str, str]]
) -> None:
    spec = ",".join(op + bound for op, bound in clauses)
    assert satisfies(version, spec) is (Version(version) in SpecifierSet(spec))


def test_installed_version() -> None:
    assert installed_version("traceroot-toy-plugin") == "1.2.0"
    assert installed_version("no-such-distribution-here") is None


def test_packaging_is_imported_only_when_a_framework_is_patched(tmp_path: Path) -> None:
    result = run_script(
        """
import json, sys, traceroot
traceroot.instrument()
idle = "packaging" in sys.modules
import toy_framework
states = {s.name: str(s.state) for s in traceroot.integrations_status()}
print(json.dumps({"idle": idle, "patched": "packaging" in sys.modules,
                  "toy": states["toy"], "toy_future": states["toy_future"]}))
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {
        "idle": False,
        "patched": True,
        "toy": "active",
        "toy_future": "unsupported version",
    }
