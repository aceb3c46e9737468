"""The one recording API for model parameters and token usage, which every caller goes through."""

from __future__ import annotations

import json
from typing import Any

import pytest

from traceroot import genai, semconv


def test_model_parameters_keep_numbers_and_stop_sequences_only() -> None:
    attributes: dict[str, Any] = {}
    genai.set_model_parameters(
        attributes,
        {
            "temperature": 0.2,
            "max_completion_tokens": 64,
            "seed": None,
            "top_p": True,
            "top_k": "40",
            "stop": ("END", 7),
            "beam": 3,
        },
    )
    assert attributes == {
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 64,
        semconv.GEN_AI_REQUEST_STOP_SEQUENCES: ["END", "7"],
    }


@pytest.mark.parametrize(
    ("stop", "recorded"),
    [("END", ["END"]), (["a", "b"], ["a", "b"]), ([], None), (False, None), (5, None)],
)
def test_stop_sequences_are_a_list_of_strings(stop: object, recorded: list[str] | None) -> None:
    attributes: dict[str, Any] = {}
    genai.set_model_parameters(attributes, {"stop_sequences": stop})
    assert attributes.get(semconv.GEN_AI_REQUEST_STOP_SEQUENCES) == recorded


@pytest.mark.parametrize(
    ("parameters", "as_json", "recorded"),
    [
        ({"temperature": 0.5}, "always", {"temperature": 0.5}),
        ({"temperature": 0.5, "seed": None}, "always", {"temperature": 0.5, "seed": None}),
        ({"temperature": 0.5}, "unmapped", None),
        ({"temperature": 0.5, "seed": None}, "unmapped", None),
        ({"temperature": 0.5, "store": False}, "unmapped", {"temperature": 0.5, "store": False}),
        ({"temperature": 0.5, "store": False}, "never", None),
    ],
)
def test_model_parameters_json_when_the_caller_asks(
    parameters: dict[str, Any], as_json: genai.ParametersJson, recorded: object
) -> None:
    attributes: dict[str, Any] = {}
    genai.set_model_parameters(attributes, parameters, as_json=as_json)
    text = attributes.get(semconv.LLM_MODEL_PARAMETERS)
    assert (json.loads(text) if text is not None else None) == recorded


class _Pydantic:
    def model_dump(self) -> dict[str, Any]:
        return {"input_tokens": 3, "output_tokens": 4, "input_tokens_details": {"cached": 1}}


class _Plain:
    def __init__(self) -> None:
        self.prompt_tokens = 5
        self.completion_tokens = 6
        self.total_tokens = 11


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            {semconv.GEN_AI_USAGE_INPUT_TOKENS: 11, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 7},
        ),
        (
            {"cached_tokens": 2, "reasoning_tokens": 9, "cache_creation_input_tokens": 1},
            {
                semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 2,
                semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 9,
                semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1,
            },
        ),
        (
            _Pydantic(),
            {semconv.GEN_AI_USAGE_INPUT_TOKENS: 3, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 4},
        ),
        (
            _Plain(),
            {semconv.GEN_AI_USAGE_INPUT_TOKENS: 5, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 6},
        ),
        (
            {"input_tokens": 12.9, "output_tokens": True, "cached_tokens": "3"},
            {semconv.GEN_AI_USAGE_INPUT_TOKENS: 12},
        ),
        ({"input_tokens": float("nan"), "output_tokens": float("inf")}, {}),
    ],
)
def test_usage_from_a_mapping_or_an_object(usage: object, expected: dict[str, int]) -> None:
    attributes: dict[str, Any] = {}
    genai.set_usage(attributes, usage)
    assert attributes == expected


def test_usage_counts_given_by_name_win_over_the_mapping() -> None:
    attributes: dict[str, Any] = {}
    genai.set_usage(
        attributes,
        {"input_tokens": 1, "output_tokens": 2},
        input_tokens=10,
        output_tokens="not a count",
        reasoning_tokens=False,
    )
    assert attributes == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 10,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 2,
    }


def test_rare_field_reads_fields_extras_and_properties_without_probing() -> None:
    import pydantic

    class Usage(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        prompt_tokens: int = 1

        @property
        def doubled(self) -> int:
            return self.prompt_tokens * 2

    class Strict(pydantic.BaseModel):
        prompt_tokens: int = 1

    class Plain:
        def __init__(self) -> None:
            self.count = 3

    usage = Usage.model_validate({"prompt_tokens": 4, "cache_creation_input_tokens": 7})
    assert genai.rare_field(usage, "prompt_tokens") == 4
    assert genai.rare_field(usage, "cache_creation_input_tokens") == 7
    assert genai.rare_field(usage, "doubled") == 8
    assert genai.rare_field(usage, "absent") is None
    assert genai.rare_field(Strict(), "absent") is None
    assert genai.rare_field(Plain(), "count") == 3
    assert genai.rare_field(Plain(), "absent") is None
    assert genai.rare_field({"a": 1}, "a") == 1
    assert genai.rare_field(None, "a") is None


def test_rare_field_of_an_object_answering_every_name() -> None:
    class Loose:
        def __init__(self) -> None:
            self._values = {"count": 10}

        def __getattr__(self, name: str) -> Any:
            return self._values.get(name)

    assert genai.rare_field(Loose(), "count") == 10
