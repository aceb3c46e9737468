"""``traceroot export`` replays each span as the app's own exporter would have sent it (resource,
scope, kind, events, links, status, trace state), over OTLP/HTTP or as OTLP/JSON lines."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from .otlp_receiver import Receiver
from .stores import cli
from .test_store_schema import OLD_TRACE, old_store, record_spans

KINDS = {"SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "INTERNAL": 1}


def test_spans_are_sent_as_they_were(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "traces.db"
    originals = record_spans(path)
    result = cli("export", "--endpoint", f"{receiver.url}/v1/traces", "--store", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"exported 3 spans to {receiver.url}/v1/traces"
    (request,) = [parsed(received.body) for received in receiver.requests]
    assert shape(request) == shape(encode_spans(originals))  # what the app sent, exactly
    spans = by_name(request)
    # ... which is, spelled out:
    call = spans["chat gpt-4o"]
    assert call["resource"] == {
        "service.name": "shop",
        "service.version": "2.1",
        "host.cores": 8,
        "k8s": ["a", "b"],
    }
    assert call["resource_schema_url"] == "https://opentelemetry.io/schemas/1.26.0"
    assert call["scope"] == ("openinference.instrumentation.openai", "0.1.2", {}, "")
    assert spans["POST /checkout"]["scope"] == (
        "shop.checkout",
        "3.4.5",
        {"team": "payments"},
        "https://opentelemetry.io/schemas/1.21.0",
    )
    assert {name: span["kind"] for name, span in spans.items()} == {
        "POST /checkout": KINDS["SERVER"],
        "chat gpt-4o": KINDS["CLIENT"],
        "publish": KINDS["PRODUCER"],
    }
    assert call["events"] == [("gen_ai.choice", 1_234_567, {"index": 0, "ids": [1, 2]})]
    assert call["links"] == [
        (f"{0x1234:032x}", f"{0x5678:016x}", {"link.reason": "retry of", "attempt": 2}, 0x300)
    ]
    assert call["status"] == (2, "rate limited")
    assert call["trace_state"] == "vendor=abc,other=1"
    assert spans["POST /checkout"]["parent"] == "eee19b7ec3c1b174"
    assert spans["POST /checkout"]["flags"] == 0x300  # the parent came from another process


def test_otlp_json_is_the_standard_encoding(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    originals = record_spans(path)
    output = tmp_path / "spans.jsonl"
    result = cli("export", "--format", "otlp-json", "--output", str(output), "--store", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 3 spans to {output}"
    assert oct(output.stat().st_mode & 0o777) == "0o600"  # spans hold prompts and outputs
    (line,) = output.read_text().splitlines()
    document = json.loads(line)
    # OTLP/JSON's own rules: hex ids, integer enums, 64-bit integers as decimal strings.
    (resource_spans,) = document["resourceSpans"]
    spans = {
        span["name"]: span
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    }
    call = spans["chat gpt-4o"]
    assert call["traceId"] == "5b8efff798038103d269b633813fc60c"
    assert call["parentSpanId"] == spans["POST /checkout"]["spanId"]
    assert len(call["spanId"]) == 16
    assert int(call["spanId"], 16)
    assert call["kind"] == 3
    assert call["status"] == {"code": 2, "message": "rate limited"}
    (original,) = [span for span in originals if span.name == "chat gpt-4o"]
    assert call["startTimeUnixNano"] == str(original.start_time)
    assert call["links"][0]["traceId"] == f"{0x1234:032x}"
    assert {"key": "host.cores", "value": {"intValue": "8"}} in resource_spans["resource"][
        "attributes"
    ]
    assert call["events"][0]["timeUnixNano"] == "1234567"
    # It parses as an ExportTraceServiceRequest and says what the app's exporter said. Protobuf's
    # own JSON parser reads bytes as base64, OTLP/JSON writes ids as hex: turned back here.
    assert shape(parsed_json(line)) == shape(encode_spans(originals))


def test_otlp_json_to_stdout_one_request_per_page(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    originals = [span for _ in range(180) for span in record_spans(path)]  # 540 spans
    result = cli("export", "--format", "otlp-json", "--store", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # 500 spans, then 40: a large store is never held whole
    received: dict[str, Any] = {}
    for line in lines:
        received.update(shape(parsed_json(line)))
    assert len(received) == len(originals)
    assert received == shape(encode_spans(originals))


def test_an_old_store_is_sent_with_what_it_knows(tmp_path: Path, receiver: Receiver) -> None:
    path = old_store(tmp_path / "traces.db")
    result = cli("export", "--endpoint", f"{receiver.url}/v1/traces", "--store", str(path))
    assert result.returncode == 0, result.stderr
    spans = by_name(parsed(receiver.requests[0].body))
    assert {name: (s["resource"], s["scope"], s["kind"]) for name, s in spans.items()} == {
        "agent": ({"service.name": "old-service"}, ("", "", {}, ""), KINDS["INTERNAL"]),
        "chat gpt-4o": ({"service.name": "old-service"}, ("", "", {}, ""), KINDS["INTERNAL"]),
    }
    assert spans["chat gpt-4o"]["status"] == (2, "rate limited")
    assert spans["chat gpt-4o"]["events"] == [("exception", 1_700_000_000_700_000_000, {})]
    written = cli("export", "--format", "otlp-json", "--store", str(path))
    assert written.returncode == 0, written.stderr
    assert by_name(parsed_json(written.stdout)) == spans
    (resource_spans,) = json.loads(written.stdout)["resourceSpans"]
    assert resource_spans["scopeSpans"][0]["spans"][0]["traceId"] == OLD_TRACE


def test_otlp_json_takes_no_sending_options(tmp_path: Path) -> None:
    path = old_store(tmp_path / "traces.db")
    result = cli(
        "export", "--format", "otlp-json", "--endpoint", "http://127.0.0.1:1", "--store", str(path)
    )
    assert result.returncode == 1
    assert "--endpoint is for sending" in result.stderr
    result = cli("export", "--output", str(tmp_path / "x.json"), "--store", str(path))
    assert result.returncode == 1
    assert "--output goes with --format otlp-json" in result.stderr


def parsed(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return request


def parsed_json(line: str) -> ExportTraceServiceRequest:
    """An OTLP/JSON line through protobuf's JSON parser, its hex ids given as base64 first."""
    document = json.loads(line)
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for message in (span, *span.get("links", ())):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in message:
                            message[key] = base64.b64encode(bytes.fromhex(message[key])).decode()
    return json_format.Parse(json.dumps(document), ExportTraceServiceRequest())


def by_name(request: ExportTraceServiceRequest) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in shape(request).values()}


def shape(request: ExportTraceServiceRequest) -> dict[str, dict[str, Any]]:
    """Each span of a request by id, with its resource and scope; attribute order and the
    grouping's order do not count."""
    spans: dict[str, dict[str, Any]] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                spans[span.span_id.hex()] = {
                    "name": span.name,
                    "resource": attributes(resource_spans.resource.attributes),
                    "resource_schema_url": resource_spans.schema_url,
                    "scope": (
                        scope.name,
                        scope.version,
                        attributes(scope.attributes),
                        scope_spans.schema_url,
                    ),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent": span.parent_span_id.hex(),
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes),
                    "events": [
                        (e.name, e.time_unix_nano, attributes(e.attributes)) for e in span.events
                    ],
                    "links": [
                        (
                            link.trace_id.hex(),
                            link.span_id.hex(),
                            attributes(link.attributes),
                            link.flags,
                        )
                        for link in span.links
                    ],
                    "status": (span.status.code, span.status.message),
                    "trace_state": span.trace_state,
                    "flags": span.flags,
                }
    return spans


def attributes(values: Any) -> dict[str, Any]:
    return {item.key: value(item.value) for item in values}


def value(any_value: AnyValue) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(item) for item in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None
