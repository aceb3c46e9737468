"""The ``traceroot`` command: read the local store, replay it, check the set-up.

    traceroot sessions                      # sessions: traces, first/last seen, tokens, errors
    traceroot traces [--session S] [--user U] [--limit N]
    traceroot show TRACE_ID [--verbose]     # a unique prefix of the id is enough; -v: the chat
    traceroot tail                          # each trace as it completes, until Ctrl-C
    traceroot export [--endpoint URL] [--header K=V ...] [--header-env K=ENV_VAR ...]
    traceroot export --format otlp-json [--output FILE]   # OTLP/JSON lines, to stdout or FILE
    traceroot doctor                        # configuration, where spans go, each integration
    traceroot ui [--port N] [--no-open]     # the store in a web browser, on 127.0.0.1

Read commands take ``--json`` and ``--store PATH``. Problems (no store yet, an unknown trace, a
locked or corrupt file) print one line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from traceroot import config
from traceroot._version import __version__
from traceroot.terminal import end_quietly_on_broken_pipe, printable


class CommandError(Exception):
    """A problem to report in one line, with a non-zero exit."""


def _store(arguments: argparse.Namespace) -> Any:
    import sqlite3

    from traceroot.store import SpanStore

    path = arguments.store or config.load().store_path
    if not os.path.exists(path):
        raise CommandError(f"no traces yet: {path} does not exist (run an instrumented program)")
    store = SpanStore(path, read_only=True)
    try:
        (row,) = store.query("SELECT COUNT(*) AS spans FROM spans")
    except sqlite3.DatabaseError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise CommandError(f"{path} is locked by another process; try again") from error
        raise CommandError(f"cannot read {path}: {error} (not a traceroot store?)") from error
    if not row["spans"]:
        raise CommandError(f"no traces yet: {path} is empty")
    return store


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _when(nanoseconds: int | None) -> str:
    if not nanoseconds:
        return "-"
    moment = datetime.datetime.fromtimestamp(nanoseconds / 1e9)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _with_costs(store: Any, column: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its ``cost`` in USD (``None``: no price known, or no price table)."""
    from traceroot import costs

    found: dict[str, Any] = {}
    if rows and costs.available():
        from traceroot.ui import queries

        with queries.connect(store.path) as connection:
            calls = queries.model_calls(connection, column, [row[column] for row in rows])
        found = {key: costs.total(each) for key, each in calls.items()}
    return [{**row, "cost": found.get(row[column])} for row in rows]


def _usd(cost: float | None) -> str:
    if cost is None:
        return "—"  # not known: never shown as a zero
    return f"${cost:.2f}" if cost >= 1 else f"${cost:.6f}"


def sessions(arguments: argparse.Namespace) -> int:
    store = _store(arguments)
    rows = _with_costs(store, "session_id", store.sessions(limit=arguments.limit))
    if arguments.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no sessions yet (spans carry one inside using_attributes(session_id=...))")
        return 0
    header = f"{'session':<32} {'traces':>6} {'first seen':<19}  {'last seen':<19}"
    print(f"{header} {'tokens':>8} {'cost':>10} {'errors':>6}")
    for row in rows:
        print(
            f"{printable(row['session_id'])[:32]:<32} {row['traces']:>6} "
            f"{_when(row['first_ns']):<19}  {_when(row['last_ns']):<19} "
            f"{row['tokens'] or 0:>8} {_usd(row['cost']):>10} {row['errors'] or 0:>6}"
        )
    return 0


def traces(arguments: argparse.Namespace) -> int:
    store = _store(arguments)
    rows = store.traces(session_id=arguments.session, user_id=arguments.user, limit=arguments.limit)
    rows = _with_costs(store, "trace_id", rows)
    if arguments.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no traces match")
        return 0
    print(
        f"{'trace':<32}  {'root':<28} {'started':<19} {'ms':>8} {'spans':>5} {'tokens':>7} "
        f"{'cost':>10}  session"
    )
    for row in rows:
        duration = ((row["end_ns"] or 0) - (row["start_ns"] or 0)) / 1e6
        errors = "  ERROR" if row["errors"] else ""
        print(
            f"{printable(row['trace_id']):<32}  {printable(row['root_name'])[:28]:<28} "
            f"{_when(row['start_ns']):<19} {duration:>8.1f} {row['span_count']:>5} "
            f"{row['tokens'] or 0:>7} {_usd(row['cost']):>10}  "
            f"{printable(row['session_id'] or '-')}{errors}"
        )
    return 0


def show(arguments: argparse.Namespace) -> int:
    from traceroot import render

    store = _store(arguments)
    matches = store.trace_ids(arguments.trace_id)
    if not matches:
        raise CommandError(f"no trace id starts with {arguments.trace_id!r}")
    if len(matches) > 1:
        raise CommandError(f"{arguments.trace_id!r} is ambiguous: {', '.join(matches)}")
    spans = store.spans(matches[0])
    if arguments.json:
        _print_json([span._asdict() for span in spans])
        return 0
    print(render.tree(spans, verbose=arguments.verbose, colour=_colour(arguments)), end="")
    return 0


def tail(arguments: argparse.Namespace) -> int:
    import signal

    from traceroot import render
    from traceroot.tailing import TraceFeed

    # Ctrl-C, or a polite kill, ends it cleanly, even when started with SIGINT ignored (as a
    # shell without job control starts background commands).
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, signal.default_int_handler)
    feed = TraceFeed(arguments.store or config.load().store_path)
    try:
        if not feed.ready():
            # The natural order is tail first, then the app: wait for the store it creates.
            print(f"traceroot: waiting for {printable(feed.path)} ...", file=sys.stderr, flush=True)
            while not feed.ready():
                time.sleep(arguments.interval)
        while True:
            for trace_id in _locked_is_empty(feed.new_traces):
                try:
                    spans = feed.spans(trace_id)
                except (ValueError, TypeError) as error:  # a corrupt row: that trace only
                    print(
                        f"traceroot: skipping trace {printable(trace_id)}: cannot read it "
                        f"({printable(error)})",
                        file=sys.stderr,
                    )
                    continue
                if not spans:
                    continue
                if arguments.json:
                    print(json.dumps([span._asdict() for span in spans], default=str), flush=True)
                else:
                    print(render.tree(spans, colour=_colour(arguments)), end="", flush=True)
            time.sleep(arguments.interval)
    except KeyboardInterrupt:
        return 0


def _locked_is_empty(poll: Callable[[], list[str]]) -> list[str]:
    """What ``poll`` finds, or nothing this time while a writer holds the store's lock."""
    import sqlite3

    try:
        return poll()
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return []
        raise


def export(arguments: argparse.Namespace) -> int:
    from traceroot import endpoints
    from traceroot.replay import replay_store

    if arguments.format == "otlp-json":
        return _export_otlp_json(arguments)
    if arguments.output is not None:
        raise CommandError("--output goes with --format otlp-json (the default sends spans)")
    settings = config.load()
    endpoint = arguments.endpoint or settings.traceroot_endpoint()
    headers = {}
    if settings.api_key and endpoints.same_origin(endpoint, settings.host_url):
        # The SDK's own key, read from the environment, and only for the host it belongs to.
        headers["Authorization"] = f"Bearer {settings.api_key}"
    elif arguments.endpoint is None:
        raise CommandError(f"set {config.API_KEY} to export to {endpoint}, or give --endpoint")
    for header in arguments.header:
        key, value = _pair(header, "--header", "KEY=VALUE")
        headers[key] = value
    for header in arguments.header_env:
        key, variable = _pair(header, "--header-env", "KEY=ENV_VAR")
        if variable not in os.environ:
            raise CommandError(f"--header-env {key}={variable}: {variable} is not set")
        headers[key] = os.environ[variable].strip()
    shown = endpoints.masked(endpoint)
    exposed = endpoints.exposed_over_plain_http(endpoint, headers)
    if exposed:
        print(
            f"traceroot: warning: sending {exposed} in clear text over http:// to "
            f"{printable(shown)}: "
            "anyone on the network path can read it; use https://",
            file=sys.stderr,
        )

    store = _store(arguments)
    result = replay_store(store, endpoint=endpoint, headers=headers, on_skip=_warn_skipped)
    if arguments.json:
        _print_json({"endpoint": shown, **result._asdict()})
    else:
        problems = [f"{result.failed} failed"] if result.failed else []
        if result.skipped:
            problems.append(f"{result.skipped} unreadable rows skipped")
        summary = f"exported {result.sent} spans to {printable(shown)}"
        print(summary + "".join(f"; {problem}" for problem in problems))
    return 1 if result.failed else 0


def _warn_skipped(first: str) -> None:
    print(
        "traceroot: warning: skipping rows that cannot be read as spans, first " + printable(first),
        file=sys.stderr,
    )


def _export_otlp_json(arguments: argparse.Namespace) -> int:
    """The store as OTLP/JSON lines, to stdout, or to a file created readable by its owner only
    (spans hold prompts and outputs); with a file, a summary on stdout."""
    from traceroot.replay import write_otlp_json

    sending = [
        option
        for option, value in (
            ("--endpoint", arguments.endpoint),
            ("--header", arguments.header),
            ("--header-env", arguments.header_env),
        )
        if value
    ]
    if sending:
        raise CommandError(f"{sending[0]} is for sending; --format otlp-json writes a file")

    store = _store(arguments)
    if arguments.output is None:
        write_otlp_json(store, sys.stdout, on_skip=_warn_skipped)
        return 0
    descriptor = os.open(arguments.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as stream:
        result = write_otlp_json(store, stream, on_skip=_warn_skipped)
    if arguments.json:
        _print_json({"output": arguments.output, "written": result.sent, "skipped": result.skipped})
    else:
        skipped = f"; {result.skipped} unreadable rows skipped" if result.skipped else ""
        print(f"wrote {result.sent} spans to {printable(arguments.output)}{skipped}")
    return 0


def _pair(text: str, option: str, shape: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise CommandError(f"{option} takes {shape}")  # the text may hold a secret: not shown
    return key.strip(), value.strip()


def doctor(arguments: argparse.Namespace) -> int:
    settings = config.load()
    from traceroot import endpoints, pipeline
    from traceroot.integrations import registry
    from traceroot.integrations.versions import satisfies

    # Under ``opentelemetry-instrument traceroot doctor`` traceroot is already set up here, on
    # the provider the distro configured: say what it joined. Otherwise, what it would do.
    active = pipeline.active()
    if active is not None:
        exporter, destination = active.exporter_name, active.destination
        provider, sampling = active.describe(), active.sampling
    else:
        exporter, destination = settings.resolved_exporter(), _destination(settings)
        from traceroot import joined_provider
        from traceroot import sampling as sampler

        provider, sampling = joined_provider.preview(settings), sampler.sampling_rule(settings)[1]

    # Discover and "instrument" in this throwaway process: nothing is imported, so each plugin
    # shows what it would do in the app (wait for its framework, or why it would not).
    registry.instrument(None)
    rows = registry.status()
    report: dict[str, Any] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "settings": {
            key: endpoints.masked(value) if isinstance(value, str) else value
            for key, value in settings.redacted().items()
        },
        "exporter": exporter,
        "destination": endpoints.masked(destination),
        "provider": endpoints.masked(provider),
        "sampling": sampling,
        "zero_code": _zero_code(active),
        "integrations": [
            {
                "name": row.name,
                "state": str(row.state),
                "detail": row.detail,
                "framework": row.distribution,
                "installed": row.version,
                "supported": row.supported,
                "version_ok": None
                if row.version is None or not row.supported
                else satisfies(row.version, row.supported),
            }
            for row in rows
        ],
        "other_instrumentations": _other_instrumentations(registry.telemetry_packages()),
    }
    registry.uninstrument()
    if arguments.json:
        _print_json(report)
        return 0
    print(f"traceroot {report['version']} on Python {report['python']}")
    print(f"spans go to: {printable(report['destination'])} (exporter {report['exporter']})")
    print(f"provider: {printable(report['provider'])}")
    print(f"sampling: {printable(report['sampling'])}")
    print(f"opentelemetry-instrument: {printable(report['zero_code'])}")
    print("settings:")
    for key, value in report["settings"].items():
        print(f"  {key:<20} {printable(value)}")
    print("integrations:")
    if not rows:
        print("  none installed")
    for item in report["integrations"]:
        framework = ""
        if item["framework"]:
            installed = item["installed"] or "not installed"
            framework = (
                f"  [{item['framework']} {installed}; supports {item['supported'] or 'any'}]"
            )
            if item["version_ok"] is False:
                framework += " UNSUPPORTED"
        detail = f" ({item['detail']})" if item["detail"] else ""
        print(printable(f"  {item['name']:<14} {item['state']}{detail}{framework}"))
    others = report["other_instrumentations"]
    if others:
        print(
            "other instrumentations installed (traceroot stamps and reads their spans, one "
            "usage-carrying span per model call; in the app, traceroot.integrations_status() "
            "says if one bypasses a traceroot patch):"
        )
        for other in others:
            print(printable(f"  {other['name']:<14} {other['distribution']} {other['version']}"))
    return 0


def _other_instrumentations(used: set[str]) -> list[dict[str, str]]:
    """OpenTelemetry instrumentors installed beside traceroot (OpenInference's, contrib's, ...),
    from their entry points: nothing is imported. Those an integration of traceroot's runs
    (``used``, by distribution name) are its own source of spans, not listed."""
    from importlib import metadata

    found = []
    for entry in metadata.entry_points(group="opentelemetry_instrumentor"):
        distribution = getattr(entry, "dist", None)
        if distribution is not None and distribution.name in (*used, "traceroot"):
            continue
        found.append(
            {
                "name": entry.name,
                "distribution": distribution.name if distribution is not None else "?",
                "version": distribution.version if distribution is not None else "?",
            }
        )
    return sorted(found, key=lambda item: (item["name"], item["distribution"]))


def _zero_code(active: Any) -> str:
    """Whether ``opentelemetry-instrument`` turns traceroot on, and how to see what it joins."""
    import importlib.util

    if active is not None and active.zero_code:
        return "traceroot loaded by it, with no code change"
    disabled = os.environ.get(config.OTEL_DISABLED_INSTRUMENTATIONS, "")
    names = {name.strip() for name in disabled.split(",")}
    if "traceroot" in names or "*" in names:
        return f"traceroot skipped ({config.OTEL_DISABLED_INSTRUMENTATIONS}={disabled})"
    if importlib.util.find_spec("opentelemetry.instrumentation") is None:
        return "not installed (pip install opentelemetry-distro for zero-code use)"
    return (
        "loads traceroot with no code change; `opentelemetry-instrument traceroot doctor` "
        "shows the provider it joins"
    )


def _destination(settings: config.Settings) -> str:
    exporter = settings.resolved_exporter()
    if not settings.enabled:
        return "nowhere: TRACEROOT_ENABLED=false"
    if exporter == "traceroot":
        return settings.traceroot_endpoint() if settings.api_key else "the local store (no key)"
    if exporter == "otlp":
        return settings.otlp_endpoint or "the OTLP endpoint from OTEL_EXPORTER_OTLP_*"
    if exporter == "local":
        return os.path.abspath(settings.store_path)
    if exporter == "console":
        return "the console"
    return "the app's own span processors"


def ui(arguments: argparse.Namespace) -> int:
    from traceroot.ui import server

    try:
        return server.run(
            arguments.store or config.load().store_path,
            host=arguments.host,
            port=arguments.port,
            allow_remote=arguments.allow_remote,
            open_browser=not arguments.no_open,
        )
    except server.RemoteRefusedError as refused:
        raise CommandError(str(refused)) from refused
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise CommandError(
            f"cannot serve on {arguments.host}:{arguments.port}: {error.strerror or error} "
            "(--port 0 picks a free port)"
        ) from error


def _colour(arguments: argparse.Namespace) -> bool:
    return not arguments.json and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="traceroot", description="Read and replay local traces.")
    parser.add_argument("--version", action="version", version=f"traceroot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def reader(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.add_argument("--store", help="the local store (default: TRACEROOT_STORE_PATH)")
        return command

    command = reader("sessions", "sessions, most recent first")
    command.add_argument("--limit", type=int, default=50)
    command.set_defaults(run=sessions)
    command = reader("traces", "recent traces, newest first")
    command.add_argument("--session")
    command.add_argument("--user")
    command.add_argument("--limit", type=int, default=20)
    command.set_defaults(run=traces)
    command = reader("show", "one trace as a tree")
    command.add_argument("trace_id", help="the trace id, or a unique prefix of it")
    command.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="inputs, outputs and messages (read as a chat), and a span's own tags and metadata",
    )
    command.set_defaults(run=show)
    command = reader("tail", "print each trace as it completes, until interrupted")
    command.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    command.set_defaults(run=tail)
    command = reader(
        "export", "replay the stored spans to an OTLP/HTTP endpoint, or write them as OTLP/JSON"
    )
    command.add_argument(
        "--format",
        choices=("otlp-http", "otlp-json"),
        default="otlp-http",
        help="otlp-http: send (the default); otlp-json: write OTLP/JSON, one request per line",
    )
    command.add_argument("--output", help="with --format otlp-json: the file (default: stdout)")
    command.add_argument(
        "--endpoint",
        help="e.g. http://127.0.0.1:4318/v1/traces (default: TraceRoot, with TRACEROOT_API_KEY)",
    )
    command.add_argument("--header", action="append", default=[], help="KEY=VALUE, repeatable")
    command.add_argument(
        "--header-env",
        action="append",
        default=[],
        help="KEY=ENV_VAR: the header's value read from ENV_VAR, off the process list",
    )
    command.set_defaults(run=export)
    command = commands.add_parser("ui", help="browse the local store in a web browser")
    command.add_argument("--store", help="the local store (default: TRACEROOT_STORE_PATH)")
    command.add_argument("--port", type=int, default=7777, help="0: any free port (default 7777)")
    command.add_argument("--host", default="127.0.0.1", help="the address to bind (default local)")
    command.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --host be an address other machines reach (they read every prompt)",
    )
    command.add_argument("--no-open", action="store_true", help="do not open a browser")
    command.set_defaults(run=ui)
    command = commands.add_parser("doctor", help="configuration, destination and integrations")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(run=doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        result: int = arguments.run(arguments)
        sys.stdout.flush()  # here, where a closed pipe can still be told apart
        return result
    except BrokenPipeError:
        return end_quietly_on_broken_pipe()
    except CommandError as problem:
        print(f"traceroot: {printable(problem)}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a locked or corrupt store, a network error
        print(f"traceroot: {type(error).__name__}: {printable(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
