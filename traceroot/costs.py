"""What a model call cost in USD, from a maintained price table: the ``genai-prices`` package.

For ``traceroot ui`` and the CLI's ``sessions`` and ``traces`` (``pip install traceroot[ui]``).
Never imported by ``import traceroot`` or ``instrument()``: the table takes a second to load, so it
is loaded on the first price asked for. An unknown model, or no table installed, has no cost
(``None``, shown as "—"): never zero, which would read as "free".
"""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple

from traceroot import semconv

# gen_ai.provider.name values (and older spellings) as the table's provider ids; a provider the
# table does not know is left out, and the table finds the model's provider from its name.
_PROVIDERS: Final = {
    semconv.PROVIDER_AWS_BEDROCK: "aws",
    semconv.PROVIDER_GCP_GEMINI: "google",
    semconv.PROVIDER_GCP_VERTEX_AI: "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "vertex_ai": "google",
    semconv.PROVIDER_AZURE_OPENAI: "azure",
    semconv.PROVIDER_AZURE_INFERENCE: "azure",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "x_ai": "x-ai",
    "xai": "x-ai",
}
# Where a span says which provider served it, in the order they are trusted.
PROVIDER_ATTRIBUTES: Final = (
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_SYSTEM,
    semconv.OPENINFERENCE_PROVIDER,
)
CACHE_READ_ATTRIBUTE: Final = semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
CACHE_WRITE_ATTRIBUTE: Final = semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS


class Usage(NamedTuple):
    """One model call's priced facts, as the store holds them."""

    model: str | None
    provider: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    start_ns: int = 0


def usage(
    model: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    attributes: Mapping[str, Any],
    start_ns: int,
) -> Usage:
    """A stored span's usage: the token columns, with the provider and cache counts from its
    attributes."""
    provider = next(
        (str(attributes[key]) for key in PROVIDER_ATTRIBUTES if attributes.get(key)), None
    )
    return Usage(
        model,
        provider,
        input_tokens,
        output_tokens,
        _count(attributes.get(CACHE_READ_ATTRIBUTE)),
        _count(attributes.get(CACHE_WRITE_ATTRIBUTE)),
        start_ns,
    )


def cost(call: Usage) -> float | None:
    """The call's price in USD, or ``None`` when its model is unknown or no table is installed."""
    if not call.model or (call.input_tokens is None and call.output_tokens is None):
        return None
    day = datetime.datetime.fromtimestamp(call.start_ns / 1e9, tz=datetime.timezone.utc).date()
    return _priced(
        call.model,
        call.provider,
        call.input_tokens or 0,
        call.output_tokens or 0,
        call.cache_read_tokens or 0,
        call.cache_write_tokens or 0,
        day,
    )


def total(calls: Iterable[Usage]) -> float | None:
    """The sum of the calls' known costs; ``None`` when none has one."""
    found = [price for price in map(cost, calls) if price is not None]
    return sum(found) if found else None


def available() -> bool:
    """Whether the price table is installed (it is loaded by the first price asked for)."""
    return _table() is not None


def warm_up() -> None:
    """Load the table now, in a thread of its own, so the first page shown need not wait."""
    threading.Thread(
        target=_priced, args=("gpt-4o-mini", "openai", 1, 1, 0, 0, None), daemon=True
    ).start()


_load_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _table() -> Any:
    try:
        return importlib.import_module("genai_prices")
    except ImportError:
        return None


@functools.lru_cache(maxsize=4096)
def _priced(
    model: str,
    provider: str | None,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    day: datetime.date | None,
) -> float | None:
    with _load_lock:  # one thread loads the table; the others wait for it, not load it again
        table = _table()
    if table is None:
        return None
    counts = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read_tokens:
        counts["cache_read_tokens"] = cache_read_tokens
    if cache_write_tokens:
        counts["cache_write_tokens"] = cache_write_tokens
    when = None
    if day is not None:
        when = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    provider_id = _PROVIDERS.get(provider, provider) if provider else None
    try:
        price = table.calc_price(
            table.Usage(**counts),
            model,
            provider_id=provider_id if provider_id in _known_providers(table) else None,
            genai_request_timestamp=when,
        )
    except (LookupError, ValueError, ArithmeticError):
        return None  # a model the table does not know, or usage it cannot price: no cost
    return float(price.total_price)


@functools.lru_cache(maxsize=1)
def _known_providers(table: Any) -> frozenset[str]:
    return frozenset(provider.id for provider in table.data_snapshot.get_snapshot().providers)


def _count(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
