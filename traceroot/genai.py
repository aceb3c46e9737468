"""The shared engine for model-call spans: what every LLM integration records the same way.

One model call is one ``llm`` span named ``"{operation} {model}"``. Messages follow the
OpenTelemetry GenAI JSON shape (``{"role", "parts": [{"type": "text", "content"}, ...]}``) and are
recorded only while content capture is on; usage, models, finish reasons and timing always are.
Provider modules only translate their own request and response objects into these calls.

The helpers fill a plain dict of attributes, set on the span in one call when the request starts
and one when the response is read: every ``set_attribute`` takes the span's lock, so batching them
is most of what keeps an instrumented call cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import semconv, spans
from traceroot.guard import contained
from traceroot.model_calls import model_calls
from traceroot.spans import SpanKind

_DATA_URL_KEEP: Final = 64


def start_llm_span(
    operation: str,
    model: str | None,
    *,
    provider: str,
    attributes: Mapping[str, Any] | None = None,
    parent: otel_context.Context | None = None,
) -> Span:
    """Start the ``llm`` span of one model call."""
    span_attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: provider,
    }
    if model:
        span_attributes[semconv.GEN_AI_REQUEST_MODEL] = model
    if attributes:
        span_attributes.update(attributes)
    name = f"{operation} {model}" if model else operation
    if parent is None:
        parent = _stream_parent()
    return spans.start(name, SpanKind.LLM, parent=parent, attributes=span_attributes)


def _stream_parent() -> otel_context.Context | None:
    """Nest a provider call under the framework call whose stream it is reading, if any."""
    if not model_calls.streams_watched:
        return None  # nearly always: no framework call has returned a stream still being read
    current = otel_context.get_current()
    span_context = trace.get_current_span(current).get_span_context()
    if not span_context.is_valid or model_calls.is_open_model(span_context.span_id):
        return None  # no trace; or another model span is current (another instrumentation's)
    framework = model_calls.stream_parent(span_context.trace_id)
    return trace.set_span_in_context(framework, current) if framework is not None else None


Attributes = dict[str, Any]


_settling = contained("genai.settle")


def set_final(span: Span, attributes: Attributes) -> None:
    """Set a model span's last attributes once the one-llm-span-per-call verdict is applied to
    them (:mod:`traceroot.model_calls`). Guarded on its own: a failure to read the response must
    not leave an enclosing span carrying usage."""
    try:  # inline rather than a with-block: every model call ends here
        model_calls.settle(span, attributes)
        span.set_attributes(attributes)
    except Exception as error:  # noqa: BLE001 - contained like any guarded block
        _settling.failed(error)


def set_content(attributes: Attributes, key: str, value: Any) -> None:
    """Record prompt or output content as JSON, unless content capture is off."""
    if value is not None:
        spans.content_into(attributes, key, value)


def set_written_content(
    attributes: Attributes, key: str, written: str | None, value: Callable[[], Any]
) -> None:
    """Record content the caller wrote as JSON itself (:mod:`traceroot.written_messages`) where
    it can be taken as it is, else ``value()`` as :func:`set_content` would."""
    if written is None or not spans.prewritten_into(attributes, key, written):
        set_content(attributes, key, value())


def set_json(attributes: Attributes, key: str, value: Any) -> None:
    """Record a structured value that is not user content (parameters, tool schemas)."""
    spans.json_into(attributes, key, value, content=False)


_PARAMETER_ATTRIBUTES: Final = semconv.MODEL_PARAMETER_ATTRIBUTES
_STOP_SEQUENCES: Final = semconv.GEN_AI_REQUEST_STOP_SEQUENCES
_USAGE_ATTRIBUTES: Final = semconv.USAGE_ATTRIBUTES

ParametersJson = Literal["always", "unmapped", "never"]


def set_model_parameters(
    attributes: Attributes,
    parameters: Mapping[str, object],
    *,
    as_json: ParametersJson = "never",
) -> None:
    """Request parameters named as in ``semconv.MODEL_PARAMETER_ATTRIBUTES`` as
    ``gen_ai.request.*``: numbers as they are, stop sequences as a list of strings; ``None`` and
    booleans are left out.

    ``as_json`` also records every parameter as JSON under ``traceroot.llm.model_parameters``:
    ``"always"``, ``"unmapped"`` (only when some parameter has no attribute of its own, so the JSON
    adds something) or ``"never"``::

        set_model_parameters(attributes, {"temperature": 0.2, "stop": "END"})
        set_model_parameters(attributes, body_parameters, as_json="unmapped")
    """
    unmapped = False
    for key, value in parameters.items():
        if value is None:
            continue
        attribute = _PARAMETER_ATTRIBUTES.get(key)
        if attribute is None:
            unmapped = True
        elif isinstance(value, bool):
            continue
        elif attribute == _STOP_SEQUENCES:
            if isinstance(value, str):
                attributes[attribute] = [value]
            elif isinstance(value, (list, tuple)) and value:
                attributes[attribute] = [str(item) for item in value]
        elif isinstance(value, (int, float)):
            attributes[attribute] = value
    if as_json == "always" or (unmapped and as_json == "unmapped"):
        set_json(attributes, semconv.LLM_MODEL_PARAMETERS, parameters)


def set_usage(
    attributes: Attributes,
    usage: object = None,
    /,
    *,
    input_tokens: object = None,
    output_tokens: object = None,
    cache_read_tokens: object = None,
    cache_creation_tokens: object = None,
    reasoning_tokens: object = None,
) -> None:
    """Token counts of this call as ``gen_ai.usage.*``.

    ``usage`` is a mapping keyed as in ``semconv.USAGE_ATTRIBUTES`` (``input_tokens`` or
    ``prompt_tokens``, ``cached_tokens``, ...), or an object with ``model_dump()`` or such
    attributes; counts given by name win over it. A count is an integer, or a float (truncated);
    absent counts, booleans and anything else are left out::

        set_usage(attributes, input_tokens=12, output_tokens=40)
        set_usage(attributes, {"prompt_tokens": 12, "completion_tokens": 40})
    """
    counts: Iterable[tuple[str, object]] = (
        (semconv.GEN_AI_USAGE_INPUT_TOKENS, input_tokens),
        (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
        (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read_tokens),
        (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_creation_tokens),
        (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning_tokens),
    )
    if usage is not None:
        counts = [*_usage_counts(usage), *counts]
    for key, value in counts:
        if value is None:
            continue
        if isinstance(value, int):
            if not isinstance(value, bool):
                attributes[key] = value
        elif isinstance(value, float) and math.isfinite(value):
            attributes[key] = int(value)


def _usage_counts(usage: object) -> list[tuple[str, object]]:
    if not isinstance(usage, Mapping):
        dump = getattr(usage, "model_dump", None)
        usage = dump() if callable(dump) else vars(usage)
    return [
        (attribute, value)
        for key, value in usage.items()
        if (attribute := _USAGE_ATTRIBUTES.get(key)) is not None
    ]


def set_if(attributes: Attributes, key: str, value: object) -> None:
    """Set a scalar attribute when the value is one OpenTelemetry can hold."""
    if isinstance(value, (str, bool, int, float)):
        attributes[key] = value
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        attributes[key] = list(value)


def record_error(span: Span, error: BaseException) -> None:
    """An API error: status, ``error.type``, one exception event, and the HTTP status if any."""
    spans.record_error(span, error)
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, status)


# -- Message parts (OpenTelemetry GenAI JSON shape) -----------------------------------------------
def text_part(text: object) -> dict[str, Any]:
    return {"type": "text", "content": text}


def tool_call_part(call_id: object, name: object, arguments: object) -> dict[str, Any]:
    return {
        "type": "tool_call",
        "id": call_id,
        "name": name,
        "arguments": parse_arguments(arguments),
    }


def tool_response_part(call_id: object, response: object) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": call_id, "response": response}


def uri_part(uri: str, modality: str) -> dict[str, Any]:
    """A reference to media; inline ``data:`` URLs keep their header, not the payload."""
    return {"type": "uri", "modality": modality, "uri": shorten_data_url(uri)}


def message(
    role: object, parts: list[dict[str, Any]], finish_reason: object = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": role, "parts": parts}
    if finish_reason is not None:
        entry["finish_reason"] = finish_reason
    return entry


def parse_arguments(arguments: object) -> object:
    """Tool-call arguments arrive as JSON text; keep them structured when they parse."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def shorten_data_url(uri: str) -> str:
    if not uri.startswith("data:") or len(uri) <= 2 * _DATA_URL_KEEP:
        return uri
    header, _, payload = uri.partition(",")
    return f"{header},<{len(payload)} characters omitted>"


def field(obj: object, name: str, default: Any = None) -> Any:
    """``obj.name`` or ``obj[name]``: provider payloads come as objects or as plain dicts."""
    if isinstance(obj, dict):  # not the Mapping ABC: its isinstance check costs ten times more
        return obj.get(name, default)
    return getattr(obj, name, default)


Reader = Callable[[Any, str, Any], Any]


def reader(obj: object) -> Reader:
    """:func:`field` for several fields of one payload: ``dict.get`` or ``getattr``, chosen once,
    both called as ``get(obj, name, default)`` and both built-ins (no Python call per read, which
    is most of what reading a response costs)::

        get = reader(response)
        response_id, model = get(response, "id", None), get(response, "model", None)
    """
    return dict.get if isinstance(obj, dict) else getattr


def rare_field(obj: object, name: str) -> Any:
    """:func:`field` for a name most payloads lack (a gateway's extra count): on a pydantic model
    a missing attribute costs a raised and caught ``AttributeError`` in ``__getattr__`` (5 us, the
    price of fifty hits), so its fields and extras are looked up as dicts instead."""
    if isinstance(obj, dict):
        return obj.get(name)
    values = getattr(obj, "__dict__", None)
    if isinstance(values, dict) and name in values:
        return values[name]
    extra = getattr(obj, "__pydantic_extra__", False)
    if not isinstance(extra, dict) and not (extra is None and hasattr(type(obj), "model_fields")):
        return getattr(obj, name, None)  # not a pydantic model
    if extra and name in extra:
        return extra[name]
    # Neither a field nor an extra: a property, if the class has one by that name.
    return getattr(obj, name, None) if _class_has(type(obj), name) else None


# Whether a class has an attribute: asked of pydantic's metaclass, a miss runs its Python
# ``__getattr__`` and raises; the answer never changes for a class, and few are asked about.
_class_attributes: dict[tuple[type, str], bool] = {}


def _class_has(cls: type, name: str) -> bool:
    key = (cls, name)
    found = _class_attributes.get(key)
    if found is None:
        found = hasattr(cls, name)
        if len(_class_attributes) < 1024:
            _class_attributes[key] = found
    return found


def texts(values: Iterable[object]) -> list[str]:
    return [value for value in values if isinstance(value, str)]
