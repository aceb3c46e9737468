from __future__ import annotations

import ast
from pathlib import Path

import traceroot
from traceroot import semconv

PACKAGE = Path(traceroot.__file__).parent


def _attribute_names() -> set[str]:
    # Dotted values only: the undotted ones ("chat", "metadata") are also ordinary words.
    return {
        value
        for name, value in vars(semconv).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }


def test_attribute_names_are_spelled_only_in_semconv() -> None:
    names = _attribute_names()
    spelled = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "semconv.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert spelled == []
