"""The README's demo command keeps working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import run_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_runs_offline_and_shows_its_trace(tmp_path: Path) -> None:
    code = (EXAMPLES / "quickstart.py").read_text()
    result = run_script(code, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Spans went to" in out
    assert str(tmp_path / ".traceroot" / "traces.db") in out
    tree = out.split("The last trace of session 'quickstart-chat':", 1)[1].splitlines()
    assert tree[1].strip().startswith("[agent] agent")
    assert tree[2].strip().startswith("[tool] search")
    assert tree[3].strip().startswith("[llm] think")
    assert "tokens=" in tree[3]


def test_quickstart_as_a_script_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[llm] think" in result.stdout
