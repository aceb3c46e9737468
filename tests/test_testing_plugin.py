"""The pytest plugin, used the way a user's own test suite uses it (in a separate pytest run)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import traceroot
from traceroot import observe

@observe(type="tool")
def search(q):
    return [q]

@observe(type="agent")
def agent(q):
    return search(q)

def test_agent_calls_the_tool(traceroot_spans):
    agent("otters")
    root = traceroot_spans.one(kind="agent")
    assert [s.name for s in traceroot_spans.children(root, kind="tool")] == ["search"]
    assert traceroot_spans.roots() == [root]
    assert "[tool] search" in traceroot_spans.tree()

def test_each_test_starts_empty(traceroot_spans):
    assert traceroot_spans.all() == []
    search("x")
    assert len(traceroot_spans.find(name="search")) == 1

def test_one_fails_with_a_listing(traceroot_spans):
    search("x")
    traceroot_spans.one(name="missing")
"""


def test_plugin_fixture_in_a_users_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*expected one span (name='missing', kind=None), found 0: search*"]
    )
