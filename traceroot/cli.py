"""The ``traceroot`` command.

traceroot doctor          # effective configuration, where spans would go, each integration
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from traceroot import config
from traceroot._version import __version__


def doctor(arguments: argparse.Namespace) -> int:
    settings = config.load()
    from traceroot.integrations import registry
    from traceroot.integrations.versions import satisfies

    # Discover and "instrument" in this throwaway process: nothing is imported, so each plugin
    # shows what it would do in the app (wait for its framework, or why it would not).
    registry.instrument(None)
    rows = registry.status()
    report: dict[str, Any] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "settings": settings.redacted(),
        "exporter": settings.resolved_exporter(),
        "destination": _destination(settings),
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
    }
    registry.uninstrument()
    if arguments.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"traceroot {report['version']} on Python {report['python']}")
    print(f"spans go to: {report['destination']} (exporter {report['exporter']})")
    print("settings:")
    for key, value in report["settings"].items():
        print(f"  {key:<20} {value}")
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
        print(f"  {item['name']:<14} {item['state']}{detail}{framework}")
    return 0


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="traceroot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"traceroot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    doctor_parser = commands.add_parser("doctor", help="show configuration and integrations")
    doctor_parser.add_argument("--json", action="store_true", help="machine-readable output")
    doctor_parser.set_defaults(run=doctor)
    arguments = parser.parse_args(argv)
    result: int = arguments.run(arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
