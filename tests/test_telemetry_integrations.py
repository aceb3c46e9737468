"""Integrations whose spans come from another package's instrumentor
(:class:`traceroot.integrations.telemetry.InstrumentorIntegration`), each run in a fresh
interpreter with a plugin package written into its working directory (a ``.dist-info`` there is
found by the entry-point scan, as an installed one would be)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .conftest import run_script

PLUGIN = """
from traceroot.integrations.telemetry import InstrumentorIntegration

class ToyTelemetryIntegration(InstrumentorIntegration):
    name = "toytel"
    modules = ("toytel_framework",)
    instrumentor = "toytel_instrumentor:ToyInstrumentor"
    distribution = "toytel-framework"
    telemetry_distribution = "toytel-instrumentation"

    def instrumentor_options(self):
        return {"flavour": "plain"}
"""

INSTRUMENTOR = """
calls = []

class ToyInstrumentor:
    is_instrumented_by_opentelemetry = False

    def instrument(self, **kwargs):
        calls.append(("instrument", sorted(kwargs), type(kwargs["tracer_provider"]).__name__))
        self.is_instrumented_by_opentelemetry = DECLINES is False

    def uninstrument(self):
        calls.append(("uninstrument",))
"""

STATUS = """
import json, sys, traceroot
def status():
    return {s.name: [str(s.state), s.detail] for s in traceroot.integrations_status()}
"""


def _package(tmp_path: Path, instrumentor: str | None) -> None:
    (tmp_path / "toytel_plugin.py").write_text(PLUGIN)
    (tmp_path / "toytel_framework.py").write_text("VALUE = 1\n")
    _dist_info(tmp_path, "toytel_framework", "")
    if instrumentor is not None:
        (tmp_path / "toytel_instrumentor.py").write_text(instrumentor)
        _dist_info(tmp_path, "toytel_instrumentation", "")
    _dist_info(
        tmp_path,
        "toytel_plugin",
        "[traceroot.integrations]\ntoytel = toytel_plugin:ToyTelemetryIntegration\n",
    )


def _dist_info(directory: Path, name: str, entry_points: str) -> None:
    info = directory / f"{name}-1.0.dist-info"
    info.mkdir()
    spelled = name.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {spelled}\nVersion: 1.0\n")
    if entry_points:
        (info / "entry_points.txt").write_text(entry_points)


def _run(code: str, tmp_path: Path) -> tuple[dict[str, object], str]:
    result = run_script(
        STATUS + textwrap.dedent(code), cwd=str(tmp_path), env={"TRACEROOT_EXPORTER": "none"}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_a_missing_telemetry_package_is_a_state_naming_the_install_command(
    tmp_path: Path,
) -> None:
    _package(tmp_path, instrumentor=None)
    out, stderr = _run(
        """
        traceroot.instrument(integrations=["toytel"])
        before = status()["toytel"]
        import toytel_framework
        print(json.dumps({"before": before, "after": status()["toytel"]}))
        """,
        tmp_path,
    )
    hint = 'toytel-instrumentation is not installed: pip install "traceroot[toytel]"'
    assert out["before"] == ["telemetry package missing", hint]
    assert out["after"] == ["telemetry package missing", hint]
    assert stderr.count("toytel is imported but not traced") == 1
    assert "pip install" in stderr


def test_a_framework_not_installed_just_waits_for_its_import(tmp_path: Path) -> None:
    """Its telemetry package is missing too, but nothing needs saying until it is installed."""
    _package(tmp_path, instrumentor=None)
    for info in tmp_path.glob("toytel_framework-*.dist-info"):
        for file in info.iterdir():
            file.unlink()
        info.rmdir()
    out, _ = _run(
        """
        traceroot.instrument(integrations=["toytel"])
        print(json.dumps({"status": status()["toytel"]}))
        """,
        tmp_path,
    )
    assert out["status"] == ["waiting for import", ""]


def test_the_instrumentor_runs_on_the_process_provider_and_is_undone(tmp_path: Path) -> None:
    _package(tmp_path, INSTRUMENTOR.replace("DECLINES", "False"))
    out, _ = _run(
        """
        traceroot.instrument(integrations=["toytel"])
        import toytel_framework, toytel_instrumentor
        active = status()["toytel"]
        traceroot.uninstrument()
        print(json.dumps({"active": active, "calls": toytel_instrumentor.calls}))
        """,
        tmp_path,
    )
    assert out["active"] == ["active", ""]
    assert out["calls"] == [
        ["instrument", ["flavour", "tracer_provider"], "TracerProvider"],
        ["uninstrument"],
    ]


def test_an_instrumentor_that_declines_the_framework_version_is_a_failure(
    tmp_path: Path,
) -> None:
    _package(tmp_path, INSTRUMENTOR.replace("DECLINES", "True"))
    out, _ = _run(
        """
        traceroot.instrument(integrations=["toytel"])
        import toytel_framework
        print(json.dumps({"status": status()["toytel"]}))
        """,
        tmp_path,
    )
    state, detail = out["status"]  # type: ignore[misc]
    assert state == "failed"
    assert "declined to instrument" in detail


def test_an_instrumentor_the_app_ran_itself_is_left_to_the_app(tmp_path: Path) -> None:
    """One instrumentor instance per class: already on (the app's own provider), traceroot
    neither runs it again nor switches it off on uninstrument()."""
    _package(tmp_path, INSTRUMENTOR.replace("DECLINES", "False"))
    out, _ = _run(
        """
        import toytel_instrumentor
        toytel_instrumentor.ToyInstrumentor.is_instrumented_by_opentelemetry = True
        traceroot.instrument(integrations=["toytel"])
        import toytel_framework
        active = status()["toytel"]
        traceroot.uninstrument()
        print(json.dumps({"active": active, "calls": toytel_instrumentor.calls}))
        """,
        tmp_path,
    )
    assert out["active"] == ["active", "instrumented by the app itself; left as the app set it up"]
    assert out["calls"] == []
