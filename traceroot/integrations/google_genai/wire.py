"""The Gemini REST wire format (camelCase JSON, the same for the Gemini Developer API and Vertex
AI), read into GenAI attributes: request bodies as the client sends them, responses as it
receives them, streamed responses chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes

# generationConfig keys -> the names set_model_parameters knows (the rest go to the JSON).
_PARAMETERS: Final = {
    "temperature": "temperature",
    "topP": "top_p",
    "topK": "top_k",
    "maxOutputTokens": "max_output_tokens",
    "stopSequences": "stop_sequences",
    "seed": "seed",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
    "candidateCount": "candidate_count",
    "responseMimeType": "response_mime_type",
    "responseModalities": "response_modalities",
    "responseLogprobs": "response_logprobs",
    "logprobs": "logprobs",
    "thinkingConfig": "thinking_config",
    "mediaResolution": "media_resolution",
}
_ROLES: Final = {"model": "assistant", "user": "user", "function": "tool", "system": "system"}
_OUTPUT_TYPES: Final = {"application/json": "json", "text/plain": "text", "text/x.enum": "text"}


def model_of(path: str) -> str | None:
    """``models/gemini-2.5-flash:generateContent`` -> ``gemini-2.5-flash``; a Vertex resource
    name (``projects/.../publishers/google/models/<id>``) gives its id; ``tunedModels/<id>``
    stays whole."""
    resource = path.partition(":")[0]
    return resource.rpartition("models/")[2] or None


# -- Requests ---------------------------------------------------------------------------------
def record_request(attributes: Attributes, body: Mapping[str, Any]) -> None:
    config = body.get("generationConfig")
    if isinstance(config, dict) and config:
        given = {name: config[key] for key, name in _PARAMETERS.items() if key in config}
        genai.set_model_parameters(attributes, given, as_json="unmapped")
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_CHOICE_COUNT, given.get("candidate_count"))
        output_type = _OUTPUT_TYPES.get(config.get("responseMimeType"))  # type: ignore[arg-type]
        if output_type is not None:
            attributes[semconv.GEN_AI_OUTPUT_TYPE] = output_type
    system = body.get("systemInstruction")
    if isinstance(system, dict):
        genai.set_content(
            attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, parts(system.get("parts"))
        )
    messages = input_messages(body)
    if messages:
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages)
    tools = tool_definitions(body.get("tools"))
    if tools:
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, tools)


def input_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contents, in the GenAI shape; the system instruction is recorded on its own."""
    return [message(content) for content in body.get("contents") or () if isinstance(content, dict)]


def message(content: Mapping[str, Any], finish_reason: object = None) -> dict[str, Any]:
    converted = parts(content.get("parts"))
    role = _ROLES.get(content.get("role") or "user", content.get("role"))
    if role == "user" and converted and all(p["type"] == "tool_call_response" for p in converted):
        role = "tool"  # function results travel as a user turn
    return genai.message(role, converted, finish_reason)


def parts(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [part(item) for item in raw if isinstance(item, dict)]


def part(raw: Mapping[str, Any]) -> dict[str, Any]:
    if "text" in raw:
        if raw.get("thought"):
            return {"type": "reasoning", "content": raw["text"]}
        return genai.text_part(raw["text"])
    call = raw.get("functionCall")
    if isinstance(call, dict):
        return genai.tool_call_part(call.get("id"), call.get("name"), call.get("args"))
    result = raw.get("functionResponse")
    if isinstance(result, dict):
        found = genai.tool_response_part(result.get("id"), result.get("response"))
        found["name"] = result.get("name")  # Gemini pairs a result with its call by name
        return found
    blob = raw.get("inlineData")
    if isinstance(blob, dict):
        mime = str(blob.get("mimeType") or "")
        size = len(blob.get("data") or "")
        return {
            "type": "blob",
            "modality": _modality(mime),
            "mime_type": mime,
            "content": f"<{size} base64 characters omitted>",
        }
    file = raw.get("fileData")
    if isinstance(file, dict):
        mime = str(file.get("mimeType") or "")
        found = genai.uri_part(str(file.get("fileUri") or ""), _modality(mime))
        found["mime_type"] = mime
        return found
    code = raw.get("executableCode")
    if isinstance(code, dict):
        return {"type": "executable_code", "content": code.get("code")}
    outcome = raw.get("codeExecutionResult")
    if isinstance(outcome, dict):
        return {"type": "code_execution_result", "content": outcome.get("output")}
    kinds = [key for key in raw if key not in ("thought", "thoughtSignature")]
    return {"type": kinds[0] if kinds else "unknown"}


def _modality(mime: str) -> str:
    kind = mime.partition("/")[0]
    return kind if kind in ("image", "audio", "video") else "file"


def tool_definitions(tools: object) -> list[dict[str, Any]]:
    """Function declarations in the GenAI shape; built-in tools (Google Search, code
    execution...) by their name."""
    if not isinstance(tools, list):
        return []
    found: list[dict[str, Any]] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        for key, value in tool.items():
            if key == "functionDeclarations" and isinstance(value, list):
                for declaration in value:
                    if isinstance(declaration, dict):
                        found.append(_function(declaration))
            else:
                found.append({"type": key})
    return found


def _function(declaration: Mapping[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": "function", "name": declaration.get("name")}
    if declaration.get("description"):
        definition["description"] = declaration["description"]
    parameters = declaration.get("parameters") or declaration.get("parametersJsonSchema")
    if parameters is None:
        parameters = declaration.get("parameters_json_schema")
    if parameters is not None:
        definition["parameters"] = parameters
    return definition


# -- Responses --------------------------------------------------------------------------------
def record_response(attributes: Attributes, response: Mapping[str, Any]) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, response.get("responseId"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, response.get("modelVersion"))
    record_usage(attributes, response.get("usageMetadata"))
    candidates = [c for c in response.get("candidates") or () if isinstance(c, dict)]
    reasons = [_reason(c.get("finishReason")) for c in candidates]
    known = [reason for reason in reasons if reason is not None]
    if known:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = known
    if candidates:
        outputs = [
            message({"role": "model", **(c.get("content") or {})}, reason)
            for c, reason in zip(candidates, reasons, strict=True)
        ]
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)


def _reason(reason: object) -> str | None:
    return reason.lower() if isinstance(reason, str) else None


def record_usage(attributes: Attributes, usage: object) -> None:
    """``promptTokenCount`` includes the cached tokens; ``candidatesTokenCount`` leaves out the
    thinking, which is billed as output, so output is both."""
    if not isinstance(usage, dict):
        return
    candidates = usage.get("candidatesTokenCount")
    thoughts = usage.get("thoughtsTokenCount")
    output = candidates
    if isinstance(thoughts, int):
        output = (candidates if isinstance(candidates, int) else 0) + thoughts
    genai.set_usage(
        attributes,
        input_tokens=usage.get("promptTokenCount"),
        output_tokens=output,
        cache_read_tokens=usage.get("cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def loads(response: object) -> dict[str, Any] | None:
    """What the API client's request methods return, as a dict: an ``HttpResponse`` whose
    ``body`` is the JSON text (google-genai 1.2x and later), or the parsed JSON itself (before)."""
    if isinstance(response, dict):
        return response
    body = getattr(response, "body", None)
    if isinstance(body, str) and body:
        found = json.loads(body)
        return found if isinstance(found, dict) else None
    return None


# -- Streams ----------------------------------------------------------------------------------
class StreamedResponse:
    """The chunks of a streamed response, kept as they arrive (JSON text: nothing is parsed per
    chunk) and merged into one response when the stream ends."""

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def add(self, chunk: Any) -> None:
        self.chunks.append(chunk)

    def _parsed(self) -> list[dict[str, Any]]:
        bodies = [getattr(chunk, "body", None) for chunk in self.chunks]
        if bodies and all(isinstance(body, str) and body for body in bodies):
            try:
                # One parse of all the bodies costs half as much as one parse each.
                found = json.loads("[" + ",".join(bodies) + "]")  # type: ignore[arg-type]
            except ValueError:
                pass
            else:
                return [chunk for chunk in found if isinstance(chunk, dict)]
        parsed = []
        for chunk in self.chunks:
            try:
                one = loads(chunk)
            except ValueError:
                continue
            if one is not None:
                parsed.append(one)
        return parsed

    def record(self, attributes: Attributes) -> None:
        merged = merge(self._parsed())
        if merged is not None:
            record_response(attributes, merged)


def merge(chunks: Any) -> dict[str, Any] | None:
    """One response from streamed partial ones: parts appended per candidate (adjacent text of
    the same kind joined), the last finish reason, usage, id and model version."""
    merged: dict[str, Any] | None = None
    candidates: dict[int, _Candidate] = {}
    for chunk in chunks:
        if merged is None:
            merged = {}
        for key in ("responseId", "modelVersion", "usageMetadata"):
            value = chunk.get(key)
            if value is not None:
                merged[key] = value
        for candidate in chunk.get("candidates") or ():
            index = candidate.get("index") or 0
            into = candidates.get(index)
            if into is None:
                into = candidates[index] = _Candidate()
            into.add(candidate)
    if merged is None:
        return None
    merged["candidates"] = [candidates[index].merged() for index in sorted(candidates)]
    return merged


class _Candidate:
    """One candidate's parts so far; a run of text parts is kept as a list of pieces (joined
    once, at the end)."""

    __slots__ = ("parts", "reason", "role")

    def __init__(self) -> None:
        self.role = "model"
        self.reason: object = None
        # a part as it came, or [thought, [text pieces]] for a run of text
        self.parts: list[Any] = []

    def add(self, candidate: Mapping[str, Any]) -> None:
        if candidate.get("finishReason") is not None:
            self.reason = candidate["finishReason"]
        content = candidate.get("content") or {}
        self.role = content.get("role") or self.role
        parts = self.parts
        for raw in content.get("parts") or ():
            text = raw.get("text")
            if isinstance(text, str) and len(raw) <= 2 and "thoughtSignature" not in raw:
                thought = bool(raw.get("thought"))
                last = parts[-1] if parts else None
                if isinstance(last, list) and last[0] == thought:
                    last[1].append(text)
                else:
                    parts.append([thought, [text]])
            else:
                parts.append(raw)

    def merged(self) -> dict[str, Any]:
        parts = [
            ({"text": "".join(p[1]), "thought": True} if p[0] else {"text": "".join(p[1])})
            if isinstance(p, list)
            else p
            for p in self.parts
        ]
        found: dict[str, Any] = {"content": {"role": self.role, "parts": parts}}
        if self.reason is not None:
            found["finishReason"] = self.reason
        return found
