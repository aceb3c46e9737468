"""What the CLI and the console exporter print for a terminal: no control character acts on it,
a trace of any depth prints, a closed pipe ends quietly; JSON stays exact."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from traceroot import render, semconv
from traceroot.records import StoredSpan

from .stores import chain, cli, environment, row, write

# A window title, a screen clear, a carriage return that hides what came before, an OSC 8 link,
# a C1 CSI, a bidi override that shows "exe.png" as "gnp.exe".
HOSTILE = (
    "evil\x1b]0;pwned\x07\x1b[2J\rhidden\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\"
    "\x9b31m\u202egnp.exe"
)
SHOWN = (
    "evil\\x1b]0;pwned\\x07\\x1b[2J\\rhidden\\x1b]8;;http://x.example\\x1b\\link\\x1b]8;;"
    "\\x1b\\\\x9b31m\\u202egnp.exe"
)


def acting(text: str) -> list[str]:
    """The characters of ``text`` that would act on a terminal (a newline ends a line: fine)."""
    return [
        char
        for char in text
        if (char != "\n" and unicodedata.category(char) in ("Cc", "Zl", "Zp"))
        or char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    ]


def test_printable_escapes_every_control_and_keeps_the_rest() -> None:
    from traceroot.terminal import printable

    assert printable(HOSTILE) == SHOWN
    assert printable("a\nb\tc") == "a\\nb\\tc"
    assert printable("a\nb\tc\r", multi_line=True) == "a\nb\tc\\r"
    assert printable("zürich 東京 👩‍💻 ok") == "zürich 東京 👩‍💻 ok"  # the joiner is kept
    everything = "".join(chr(code) for code in range(0x250)) + "\u2028\u2029\u2066\u061c"
    assert acting(printable(everything)) == []


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "traces.db"
    messages = [{"role": "assistant\x1b[2J", "parts": [{"type": "text", "content": HOSTILE}]}]
    write(
        path,
        [
            row(1, 1, name=HOSTILE, session_id=HOSTILE, model=HOSTILE, kind="agent"),
            row(
                1,
                2,
                1,
                name="child\r",
                kind="llm",
                status="ERROR",
                status_message=HOSTILE,
                attributes={
                    semconv.SPAN_INPUT: HOSTILE,
                    semconv.GEN_AI_INPUT_MESSAGES: json.dumps(messages),
                },
            ),
        ],
    )
    return path


@pytest.mark.parametrize(
    "args",
    [("sessions",), ("traces",), ("show", "0000"), ("show", "0000", "--verbose")],
)
def test_reading_commands_print_no_control_characters(
    hostile_store: Path, args: tuple[str, ...]
) -> None:
    result = cli(*args, "--store", str(hostile_store))
    assert result.returncode == 0, result.stderr
    assert acting(result.stdout) == []
    assert "evil\\x1b]0;pwned\\x07" in result.stdout  # shown, visibly, not dropped
    if args[0] == "show":
        assert "\\u202egnp.exe" in result.stdout
    if "--verbose" in args:
        assert "assistant\\x1b[2J: evil\\x1b" in result.stdout
        assert f"input: {SHOWN}"[:60] in result.stdout


def test_json_output_stays_exact(hostile_store: Path) -> None:
    spans = json.loads(cli("show", "0000", "--json", "--store", str(hostile_store)).stdout)
    assert spans[0]["name"] == HOSTILE
    assert spans[0]["session_id"] == HOSTILE
    (session,) = json.loads(cli("sessions", "--json", "--store", str(hostile_store)).stdout)
    assert session["session_id"] == HOSTILE


def test_unknown_trace_id_is_not_echoed_raw(hostile_store: Path) -> None:
    result = cli("show", "\x1b]0;x\x07", "--store", str(hostile_store))
    assert result.returncode == 1
    assert acting(result.stderr) == []


def sdk_spans(names: list[str], *, nested: bool) -> io.StringIO:
    """Spans made by a real SDK provider, printed by the console exporter."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from traceroot.console import ConsoleTreeExporter

    stream = io.StringIO()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter(stream)))
    tracer = provider.get_tracer("test")
    with contextlib.ExitStack() as stack:  # nested without recursion: the depth is the test's
        for name in names:
            if nested:
                stack.enter_context(tracer.start_as_current_span(name))
            else:
                with tracer.start_as_current_span(name):
                    pass
    provider.shutdown()
    return stream


def test_console_exporter_prints_no_control_characters() -> None:
    printed = sdk_spans([HOSTILE, "next"], nested=False).getvalue()
    assert acting(printed) == []
    assert f"[internal] {SHOWN}" in printed
    assert printed.count("\ntrace ") + printed.startswith("trace ") == 2


def test_console_exporter_prints_a_trace_1500_deep() -> None:
    lines = sdk_spans([f"level-{n}" for n in range(1500)], nested=True).getvalue().splitlines()
    assert len(lines) == 1501
    assert lines[1] == "  " + lines[1].strip()
    assert lines[1].strip().startswith("[internal] level-0 ")
    assert "(depth 1499) [internal] level-1499 " in lines[-1]


def test_tree_of_any_depth_bounds_its_indent() -> None:
    spans = [StoredSpan(*values[:15], {}, []) for values in chain(7, 3000)]
    lines = render.tree(spans).splitlines()
    assert len(lines) == 3001
    assert lines[3].startswith("      [span] level-2 ")
    assert max(len(line) - len(line.lstrip()) for line in lines) <= 2 * 51
    assert lines[-1].lstrip().startswith("(depth 2999) [span] level-2999 ")


def test_tree_shows_spans_whose_parents_loop() -> None:
    # A corrupt store: a and b are each other's parent, c is its own. All are shown, once.
    spans = [
        StoredSpan(*values[:15], {}, [])
        for values in [row(1, 1, 2, name="a"), row(1, 2, 1, name="b"), row(1, 3, 3, name="c")]
    ]
    names = [line.split()[1] for line in render.tree(spans).splitlines()[1:]]
    assert sorted(names) == ["a", "b", "c"]


def test_show_prints_a_trace_1000_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.db"
    write(path, chain(5, 1000))
    result = cli("show", "0000", "--store", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1001
    assert lines[-1].lstrip().startswith("(depth 999) [span] level-999 ")
    verbose = cli("show", "0000", "--verbose", "--store", str(path))
    assert verbose.returncode == 0, verbose.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    # Output larger than a pipe's buffer, so a write after the reader left fails.
    write(path, [row(trace, 1, name="x" * 100) for trace in range(1, 12_001)])
    args = ("traces", "--limit", "12000")
    reader = subprocess.Popen(
        [sys.executable, "-m", "traceroot.cli", *args, "--store", str(path)],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    assert reader.stderr is not None
    reader.stdout.readline()  # as `| head -1` does: one line, then gone
    reader.stdout.close()
    error = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports `cat`'s
    assert error == ""


def test_doctor_masks_the_credentials_of_an_endpoint_url() -> None:
    endpoint = "http://alice:s3cret-pass@127.0.0.1:4318/v1/traces"
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint, "TRACEROOT_HOST_URL": endpoint}
    text = cli("doctor", env=env)
    assert text.returncode == 0, text.stderr
    assert "s3cret-pass" not in text.stdout
    assert "alice" not in text.stdout
    assert "spans go to: http://***@127.0.0.1:4318/v1/traces" in text.stdout
    report = cli("doctor", "--json", env=env).stdout
    assert "s3cret-pass" not in report
    assert json.loads(report)["settings"]["otlp_endpoint"] == "http://***@127.0.0.1:4318/v1/traces"
