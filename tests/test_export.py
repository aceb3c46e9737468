"""``traceroot export``: unreadable rows skipped and counted, headers off the process list,
secrets not sent in clear without a word, ``--json`` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .otlp_receiver import Receiver
from .stores import cli, row, write


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "traces.db"
    write(path, [row(1, 1, name="first"), row(1, 2, 1, name="second"), row(2, 1, name="third")])
    return path


def test_corrupt_rows_are_skipped_counted_and_warned_once(store: Path, receiver: Receiver) -> None:
    write(
        store,
        [
            row(3, 1, name="bad json", attributes="{not json"),
            row(4, 1, name="bad events", events='{"a": 1}'),
            row(5, 1, name="bad id", trace_id="zz-not-hex"),
            row(6, 1, name="bad time", start_ns="yesterday", end_ns=5),
            row(7, 1, name="odd values", attributes={"nested": {"a": 1}, "big": 2**70}),
        ],
    )
    result = cli("export", "--endpoint", f"{receiver.url}/v1/traces", "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"exported 4 spans to {receiver.url}/v1/traces; 4 unreadable rows skipped"
    )
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith("traceroot: warning: skipping rows that cannot be read")
    assert "Traceback" not in result.stderr
    spans = receiver.spans()
    assert sorted(spans) == ["first", "odd values", "second", "third"]
    assert spans["odd values"] == {"nested": '{"a": 1}', "big": str(2**70)}


def test_json_output(store: Path, receiver: Receiver) -> None:
    result = cli(
        "export", "--json", "--endpoint", f"{receiver.url}/v1/traces", "--store", str(store)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "endpoint": f"{receiver.url}/v1/traces",
        "sent": 3,
        "failed": 0,
        "skipped": 0,
    }


def test_header_value_read_from_the_environment(store: Path, receiver: Receiver) -> None:
    result = cli(
        "export",
        "--endpoint",
        f"{receiver.url}/v1/traces",
        "--header-env",
        "Authorization=MY_COLLECTOR_AUTH",
        "--store",
        str(store),
        env={"MY_COLLECTOR_AUTH": "Bearer from-the-env"},
    )
    assert result.returncode == 0, result.stderr
    assert receiver.requests[0].headers["authorization"] == "Bearer from-the-env"
    assert result.stderr == ""  # loopback: nothing to warn about
    missing = cli(
        "export",
        "--endpoint",
        f"{receiver.url}/v1/traces",
        "--header-env",
        "Authorization=NOT_SET_ANYWHERE",
        "--store",
        str(store),
    )
    assert missing.returncode == 1
    assert "NOT_SET_ANYWHERE is not set" in missing.stderr


def test_the_sdk_key_goes_to_the_traceroot_host_only(store: Path, receiver: Receiver) -> None:
    env = {"TRACEROOT_API_KEY": "tr-key-from-env", "TRACEROOT_HOST_URL": receiver.url}
    result = cli("export", "--store", str(store), env=env)
    assert result.returncode == 0, result.stderr
    request = receiver.requests[0]
    assert request.path == "/api/v1/public/traces"
    assert request.headers["authorization"] == "Bearer tr-key-from-env"
    # Another endpoint does not get the key.
    other = cli(
        "export",
        "--endpoint",
        receiver.url.replace("127.0.0.1", "localhost") + "/v1/traces",
        "--store",
        str(store),
        env=env,
    )
    assert other.returncode == 0, other.stderr
    assert "authorization" not in receiver.requests[-1].headers
    unset = cli("export", "--store", str(store))
    assert unset.returncode == 1
    assert "set TRACEROOT_API_KEY" in unset.stderr


def test_warns_before_sending_secrets_over_plain_http(tmp_path: Path) -> None:
    # The warning comes before anything is read or sent: a missing store ends the run offline.
    result = cli(
        "export",
        "--endpoint",
        "http://collector.example:4318/v1/traces",
        "--header-env",
        "Authorization=MY_COLLECTOR_AUTH",
        "--store",
        str(tmp_path / "none.db"),
        env={"MY_COLLECTOR_AUTH": "Bearer secret-value"},
    )
    assert result.returncode == 1
    first, second = result.stderr.strip().splitlines()
    assert first == (
        "traceroot: warning: sending the header Authorization in clear text over http:// to "
        "http://collector.example:4318/v1/traces: anyone on the network path can read it; "
        "use https://"
    )
    assert "no traces yet" in second
    assert "secret-value" not in result.stderr


@pytest.mark.parametrize(
    ("url", "headers", "exposed"),
    [
        ("http://collector.example/v1/traces", {"Authorization": "x"}, "the header Authorization"),
        ("http://10.0.0.5:4318", {"a": "1", "b": "2"}, "the headers a, b"),
        ("http://u:p@collector.example", {}, "the URL's user:password"),
        ("HTTP://collector.example", {"k": "v"}, "the header k"),
        ("https://collector.example", {"Authorization": "x"}, None),
        ("http://127.0.0.1:4318", {"Authorization": "x"}, None),
        ("http://127.8.9.1:4318", {"Authorization": "x"}, None),
        ("http://[::1]:4318", {"Authorization": "x"}, None),
        ("http://localhost:4318", {"Authorization": "x"}, None),
        ("http://collector.example", {}, None),
    ],
)
def test_what_goes_in_clear(url: str, headers: dict[str, str], exposed: str | None) -> None:
    from traceroot.endpoints import exposed_over_plain_http

    assert exposed_over_plain_http(url, headers) == exposed


def test_masked_urls() -> None:
    from traceroot.endpoints import masked

    assert masked("http://u:p@h:1/x") == "http://***@h:1/x"
    assert (
        masked("see https://token@h/x and grpc://a:b@c") == "see https://***@h/x and grpc://***@c"
    )
    assert masked("http://h/x?next=a@b") == "http://h/x?next=a@b"
    assert masked("the local store") == "the local store"


def test_readme_export_example_keeps_the_key_off_the_command_line() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert '--header "Authorization=Bearer $' not in readme
    assert "--header-env" in readme
