"""Discovery, lazy patching and toggles, each in a fresh interpreter.

The test environment has the toy plugin package installed (tests/fixtures/toy_plugin): a toy
framework plus three integrations registered through the entry-point group, one of them broken
on purpose and one claiming a version range the installed framework is outside of.
"""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_script

STATUS = """
import json, traceroot
def status():
    return {s.name: [str(s.state), s.detail] for s in traceroot.integrations_status()}
"""


def _run(code: str, tmp_path: Path, **env: str) -> dict[str, object]:
    result = run_script(STATUS + code, cwd=str(tmp_path), env={"TRACEROOT_EXPORTER": "none", **env})
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    parsed: dict[str, object] = json.loads(last)
    parsed["stderr"] = result.stderr
    return parsed


def test_discovers_builtins_and_third_party_plugins(tmp_path: Path) -> None:
    out = _run(
        """
from traceroot.integrations import registry
print(json.dumps({"found": sorted(registry.discover())}))
""",
        tmp_path,
    )
    assert {"threading", "toy", "toy_future", "broken"} <= set(out["found"])  # type: ignore[arg-type]


def test_patches_on_import_not_before(tmp_path: Path) -> None:
    out = _run(
        """
import sys
traceroot.instrument()
before = status()
framework_loaded_early = "toy_framework" in sys.modules
import toy_framework
from opentelemetry import trace
print(json.dumps({"before": before, "after": status(), "early": framework_loaded_early,
                  "result": toy_framework.Client().call("hi")}))
""",
        tmp_path,
    )
    assert out["early"] is False
    assert out["before"]["toy"] == ["waiting for import", ""]  # type: ignore[index]
    assert out["after"]["toy"] == ["active", ""]  # type: ignore[index]
    assert out["after"]["threading"] == ["active", ""]  # type: ignore[index]
    assert out["result"] == "HI"


def test_patched_framework_makes_spans_and_keeps_behaviour(tmp_path: Path) -> None:
    out = _run(
        """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
import toy_framework                     # imported before instrument(): patched at once
traceroot.instrument(integrations=["toy"])
client = toy_framework.Client()
with traceroot.using_session("toy-session"):
    answer = client.call("hello")
    helped = toy_framework.helper(1)
try:
    client.call("fail")
except RuntimeError as error:
    raised = str(error)
spans = {s.name + str(i): [s.attributes.get("session.id"), s.status.status_code.name]
         for i, s in enumerate(exporter.get_finished_spans())}
print(json.dumps({"answer": answer, "helped": helped, "raised": raised, "spans": spans,
                  "status": status()}))
""",
        tmp_path,
    )
    assert (out["answer"], out["helped"], out["raised"]) == ("HELLO", 2, "toy failure")
    assert out["spans"] == {
        "toy.call0": ["toy-session", "UNSET"],
        "toy.helper1": ["toy-session", "UNSET"],
        "toy.call2": [None, "ERROR"],
    }
    assert out["status"]["toy"] == ["active", ""]  # type: ignore[index]
    # Carrying the context into threads is core behaviour: on with any choice of integrations.
    assert out["status"]["threading"] == ["active", ""]  # type: ignore[index]


OWN_MODULES = """
def own_integrations():
    # traceroot's own integration packages that are loaded (not their submodules)
    return sorted(m.split(".")[2] for m in sys.modules
                  if m.startswith("traceroot.integrations.") and m.count(".") == 2
                  and m.split(".")[2] in BUILT_IN)
"""


def test_own_integrations_load_with_their_framework_not_at_instrument(tmp_path: Path) -> None:
    out = _run(
        """
import sys
from traceroot.integrations.discovery import BUILT_IN
"""
        + OWN_MODULES
        + """
traceroot.instrument(integrations=["openai", "langchain", "llama_index"])
at_instrument = own_integrations()
frameworks_early = [m for m in ("openai", "langchain_core") if m in sys.modules]
import openai
request = openai._base_client.SyncAPIClient.request
print(json.dumps({"at_instrument": at_instrument, "early": frameworks_early,
                  "after_import": own_integrations(), "wrapped": hasattr(request, "__wrapped__"),
                  "status": status()}))
""",
        tmp_path,
    )
    assert out["early"] == []
    assert out["at_instrument"] == ["threading"]  # threading is always imported: on at once
    assert out["after_import"] == ["openai", "threading"]
    assert out["wrapped"] is True
    status = out["status"]
    assert status["openai"] == ["active", ""]  # type: ignore[index]
    assert status["langchain"] == ["waiting for import", ""]  # type: ignore[index]


def test_own_integration_status_before_its_framework_is_imported(tmp_path: Path) -> None:
    # The status reads what the plugin declares (its range, its modules): it loads the plugin,
    # which then patches when the framework comes, exactly once.
    out = _run(
        """
import sys
traceroot.instrument(integrations=["openai"])
row = next(s for s in traceroot.integrations_status() if s.name == "openai")
import openai
request = openai._base_client.SyncAPIClient.request
print(json.dumps({"row": [str(row.state), list(row.modules), row.distribution, row.supported],
                  "wrapped": hasattr(request, "__wrapped__"),
                  "twice": hasattr(request.__wrapped__, "__wrapped__"),
                  "status": status()["openai"]}))
""",
        tmp_path,
    )
    from traceroot.integrations.openai import OpenAIIntegration

    declared = [list(OpenAIIntegration.modules), "openai", OpenAIIntegration.supported]
    assert out["row"] == ["waiting for import", *declared]
    assert (out["wrapped"], out["twice"]) == (True, False)
    assert out["status"] == ["active", ""]


def test_own_integration_of_an_imported_framework_patches_at_once(tmp_path: Path) -> None:
    out = _run(
        """
import openai
traceroot.instrument()
request = openai._base_client.SyncAPIClient.request
print(json.dumps({"wrapped": hasattr(request, "__wrapped__"), "status": status()["openai"]}))
""",
        tmp_path,
    )
    assert out == {**out, "wrapped": True, "status": ["active", ""]}


def test_disabled_or_unchosen_own_integrations_never_load(tmp_path: Path) -> None:
    code = (
        """
import sys
from traceroot.integrations.discovery import BUILT_IN
"""
        + OWN_MODULES
        + """
traceroot.instrument(%s)
import openai
print(json.dumps({"loaded": own_integrations(), "status": status()["openai"],
                  "wrapped": hasattr(openai._base_client.SyncAPIClient.request, "__wrapped__")}))
"""
    )
    off = _run(code % "", tmp_path, TRACEROOT_INSTRUMENT_OPENAI="false")
    assert off["loaded"] == ["threading"]
    assert off["status"] == ["disabled", "TRACEROOT_INSTRUMENT_OPENAI turned it off"]
    assert off["wrapped"] is False
    unchosen = _run(code % 'integrations=["langchain"]', tmp_path)
    assert unchosen["loaded"] == ["threading"]
    assert unchosen["status"][0] == "not requested"  # type: ignore[index]
    assert unchosen["wrapped"] is False


def test_own_integration_checks_the_version_when_its_framework_is_imported(
    tmp_path: Path,
) -> None:
    out = _run(
        """
from traceroot.integrations.openai import OpenAIIntegration
OpenAIIntegration.supported = "<1"  # the installed openai is outside it
traceroot.instrument(integrations=["openai"])
import openai
request = openai._base_client.SyncAPIClient.request
print(json.dumps({"after": status()["openai"],
                  "wrapped": hasattr(request, "__wrapped__")}))
""",
        tmp_path,
    )
    assert out["after"][0] == "unsupported version"  # type: ignore[index]
    assert out["after"][1].endswith("is outside <1")  # type: ignore[index]
    assert out["wrapped"] is False
    assert out["stderr"].count("not supported by the openai integration") == 1  # type: ignore[union-attr]


def test_own_integration_that_cannot_load_fails_alone(tmp_path: Path) -> None:
    out = _run(
        """
import sys
sys.modules["traceroot.integrations.threading"] = None  # its module cannot be imported
traceroot.instrument(integrations=["openai"])
import openai
request = openai._base_client.SyncAPIClient.request
print(json.dumps({"status": status(), "wrapped": hasattr(request, "__wrapped__")}))
""",
        tmp_path,
    )
    status = out["status"]
    assert status["threading"][0] == "failed"  # type: ignore[index]
    assert "could not load" in status["threading"][1]  # type: ignore[index]
    assert out["stderr"].count("integration 'threading' failed to load") == 1  # type: ignore[union-attr]
    assert status["openai"] == ["active", ""]  # type: ignore[index]
    assert out["wrapped"] is True


def test_import_from_another_thread_patches(tmp_path: Path) -> None:
    out = _run(
        """
import threading
traceroot.instrument(integrations=["toy"])
worker = threading.Thread(target=lambda: __import__("toy_framework"))
worker.start(); worker.join()
import toy_framework
print(json.dumps({"wrapped": hasattr(toy_framework.Client.call, "__wrapped__"),
                  "status": status()["toy"]}))
""",
        tmp_path,
    )
    assert out["wrapped"] is True
    assert out["status"] == ["active", ""]


def test_each_toggle_switches_an_integration_off(tmp_path: Path) -> None:
    code = """
traceroot.instrument()
import toy_framework
wrapped = hasattr(toy_framework.Client.call, "__wrapped__")
print(json.dumps({"status": status(), "wrapped": wrapped}))
"""
    for variable, value in [
        ("TRACEROOT_INSTRUMENT_TOY", "false"),
        ("TRACEROOT_DISABLED_INTEGRATIONS", "threading, toy"),
        ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "toy"),
    ]:
        out = _run(code, tmp_path, **{variable: value})
        assert out["status"]["toy"] == ["disabled", f"{variable} turned it off"]  # type: ignore[index]
        assert out["wrapped"] is False


def test_integrations_argument_limits_the_set_and_unknown_names_warn(tmp_path: Path) -> None:
    out = _run(
        """
traceroot.instrument(integrations=["threading", "no-such-thing"])
import toy_framework
print(json.dumps({"status": status()}))
""",
        tmp_path,
    )
    status = out["status"]
    assert status["threading"] == ["active", ""]  # type: ignore[index]
    assert status["toy"][0] == "not requested"  # type: ignore[index]
    assert status["no_such_thing"][0] == "no plugin installed"  # type: ignore[index]
    assert "unknown integration 'no_such_thing'" in out["stderr"]  # type: ignore[operator]
    assert "known integrations:" in out["stderr"]  # type: ignore[operator]


def test_traceroot_names_without_a_plugin_are_skipped_with_one_warning(tmp_path: Path) -> None:
    out = _run(
        """
from traceroot.integrations import registry
# An environment where no installed package provides these two names.
found = registry.discover
registry.discover = lambda: {
    name: entry for name, entry in found().items() if name not in ("anthropic", "groq")
}
traceroot.initialize(integrations=[traceroot.Integration.ANTHROPIC, "groq"])
traceroot.instrument(integrations=[traceroot.Integration.ANTHROPIC])
print(json.dumps({"status": status()}))
""",
        tmp_path,
    )
    assert out["status"]["anthropic"][0] == "no plugin installed"  # type: ignore[index]
    assert out["stderr"].count("'anthropic' is not provided") == 1  # type: ignore[union-attr]


def test_unsupported_version_skipped_with_one_warning_naming_the_range(tmp_path: Path) -> None:
    out = _run(
        """
traceroot.instrument(integrations=["toy_future"])
import toy_framework
wrapped = hasattr(toy_framework.Client.call, "__wrapped__")
print(json.dumps({"status": status(), "wrapped": wrapped}))
""",
        tmp_path,
    )
    assert out["status"]["toy_future"] == [  # type: ignore[index]
        "unsupported version",
        "traceroot-toy-plugin 1.2.0 is outside >=5.0",
    ]
    assert out["wrapped"] is False
    assert out["stderr"].count("supported: >=5.0") == 1  # type: ignore[union-attr]


def test_failing_plugin_does_not_stop_the_others(tmp_path: Path) -> None:
    out = _run(
        """
traceroot.instrument()
import toy_framework
print(json.dumps({"status": status()}))
""",
        tmp_path,
    )
    assert out["status"]["broken"][0] == "failed"  # type: ignore[index]
    assert "broken on purpose" in out["status"]["broken"][1]  # type: ignore[index]
    assert out["status"]["toy"] == ["active", ""]  # type: ignore[index]
    assert "integration 'broken' failed to load" in out["stderr"]  # type: ignore[operator]


def test_instrument_twice_patches_once(tmp_path: Path) -> None:
    out = _run(
        """
import toy_framework
traceroot.instrument(integrations=["toy"])
first = toy_framework.Client.__dict__["call"]
traceroot.instrument(integrations=["toy"])
traceroot.instrument()
second = toy_framework.Client.__dict__["call"]
print(json.dumps({"same": first is second,
                  "depth": hasattr(second.__wrapped__, "__wrapped__")}))
""",
        tmp_path,
    )
    assert out["same"] is True
    assert out["depth"] is False


def test_uninstrument_restores_originals_and_cancels_pending_hooks(tmp_path: Path) -> None:
    out = _run(
        """
import sys, threading, concurrent.futures
from traceroot.integrations import imports
originals = [threading.Thread.start, threading.Thread.run,
             concurrent.futures.ThreadPoolExecutor.submit]
traceroot.instrument()
patched = [threading.Thread.start is not originals[0]]
pending_before = imports.pending()
traceroot.uninstrument()
restored = [threading.Thread.start is originals[0], threading.Thread.run is originals[1],
            concurrent.futures.ThreadPoolExecutor.submit is originals[2]]
pending_after = imports.pending()
watching = any(type(f).__name__ == "_Watcher" for f in sys.meta_path)
import toy_framework                         # after uninstrument: must stay unpatched
print(json.dumps({"patched": patched, "restored": restored, "before": pending_before,
                  "after": pending_after, "watching": watching,
                  "toy": hasattr(toy_framework.Client.call, "__wrapped__"),
                  "again": status()}))
""",
        tmp_path,
    )
    assert out["patched"] == [True]
    assert out["restored"] == [True, True, True]
    assert "toy_framework" in out["before"]  # type: ignore[operator]
    assert out["after"] == []
    assert out["watching"] is False
    assert out["toy"] is False
    assert out["again"] == {}


def test_uninstrument_then_instrument_again(tmp_path: Path) -> None:
    out = _run(
        """
import toy_framework
original = toy_framework.Client.__dict__["call"]
traceroot.instrument(integrations=["toy"])
traceroot.uninstrument()
back = toy_framework.Client.__dict__["call"] is original
traceroot.instrument(integrations=["toy"])
print(json.dumps({"back": back, "again": hasattr(toy_framework.Client.call, "__wrapped__"),
                  "status": status()["toy"]}))
""",
        tmp_path,
    )
    assert out == {**out, "back": True, "again": True, "status": ["active", ""]}


def test_instrument_and_uninstrument_racing_in_threads_never_stack_patches(tmp_path: Path) -> None:
    out = _run(
        """
import threading, time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from traceroot.integrations import imports
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
import toy_framework
traceroot.instrument(integrations=[])
# Widen the window between instrument() choosing an integration and patching it, as a busy
# machine does, so the race shows in a few hundred rounds rather than once in a while.
register = imports.when_imported
def slow_register(name, callback):
    time.sleep(0.0005)
    register(name, callback)
imports.when_imported = slow_register
start = threading.Barrier(4)
def instrumenting():
    start.wait()
    for _ in range(60):
        traceroot.instrument(integrations=["toy"])
def uninstrumenting():
    start.wait()
    for _ in range(60):
        traceroot.uninstrument()
        time.sleep(0.0003)
threads = [threading.Thread(target=f) for f in (instrumenting, uninstrumenting) * 2]
for t in threads: t.start()
for t in threads: t.join()
def spans_per_call():
    exporter.clear()
    client = toy_framework.Client()
    for _ in range(5):
        client.call("x")
    return len([s for s in exporter.get_finished_spans() if s.name == "toy.call"])
traceroot.instrument(integrations=["toy"])
instrumented = spans_per_call()
traceroot.uninstrument()
print(json.dumps({"instrumented": instrumented, "uninstrumented": spans_per_call()}))
""",
        tmp_path,
    )
    assert out["instrumented"] == 5  # one span per call
    assert out["uninstrumented"] == 0


def test_initialize_carries_the_context_into_thread_pools(tmp_path: Path) -> None:
    code = """
from concurrent.futures import ThreadPoolExecutor
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
traceroot.initialize(integrations=[traceroot.Integration.OPENAI], exporter="none")

@traceroot.observe
def pooled():
    return 1

with traceroot.using_session("pool-session"):
    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(pooled).result()
session = exporter.get_finished_spans()[0].attributes.get("session.id")
print(json.dumps({"session": session, "threading": status()["threading"]}))
"""
    out = _run(code, tmp_path)
    assert out["session"] == "pool-session"
    assert out["threading"] == ["active", ""]
    # Switched off, it stays off.
    off = _run(code, tmp_path, TRACEROOT_INSTRUMENT_THREADING="false")
    assert off["session"] is None
    assert off["threading"] == ["disabled", "TRACEROOT_INSTRUMENT_THREADING turned it off"]


def test_doctor_prints_configuration_and_integrations(tmp_path: Path) -> None:
    result = run_script(
        "from traceroot.cli import main; raise SystemExit(main(['doctor']))",
        cwd=str(tmp_path),
        env={"TRACEROOT_API_KEY": "tr-very-secret-key", "TRACEROOT_INSTRUMENT_TOY": "0"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "/api/v1/public/traces (exporter traceroot)" in out
    assert "tr-very-secret" not in out
    assert "toy            disabled (TRACEROOT_INSTRUMENT_TOY turned it off)" in out
    assert "threading      waiting for import" in out or "threading      active" in out
    assert "toy_future" in out
    assert "[traceroot-toy-plugin 1.2.0; supports >=5.0] UNSUPPORTED" in out
