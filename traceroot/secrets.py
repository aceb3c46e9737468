"""No secret reaches a span: values under secret-named keys, and credential-shaped text anywhere.

Every structured value traceroot records (inputs, outputs, messages, metadata, model parameters)
becomes JSON text in :func:`traceroot.serialize.to_json_checked`, which hands it to :func:`scrub`
before any truncation. Two passes, each behind substring tests that rule out nearly all text:

- by key: an object key such as ``api_key``, ``password``, ``PGPASSWORD`` or ``accessKey`` (and a
  header given as a ``["Authorization", "..."]`` pair or a ``{"name": ..., "value": ...}``
  record) has its value replaced. Ids such as ``session_id`` and counts such as ``max_tokens``
  are kept, and so are the parameter names of a JSON schema's ``properties``.
- by shape: well-known credential formats inside any string (``Bearer <token>``, OpenAI, Stripe,
  GitHub, Slack, Google and AWS keys, JWTs, PEM private keys, a URL's ``user:password@``,
  ``password=...`` assignments) are replaced where they stand, the rest of the text kept.
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any, Final

REDACTED: Final = "[REDACTED]"
_WITHHELD: Final = '"<withheld: could not redact>"'

# ---------------------------------------------------------------------------------------------
# By key.

# A key is split into words (``X-Api-Key``, ``AWS_SECRET_ACCESS_KEY``, ``accessKey``); it is a
# secret when its last word is one of these, or ends with one of the endings (``PGPASSWORD``).
_SECRET_WORDS: Final = frozenset(
    {"key", "pwd", "auth", "authorization", "bearer", "cookie", "credential", "credentials"}
)
_SECRET_ENDINGS: Final = ("password", "passwd", "passphrase", "secret", "token", "apikey")
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS: Final = re.compile(r"[\W_]+")

# The name of a ``[name, value]`` pair (a header given as a tuple).
_PAIR_NAME: Final = re.compile(r'\[\s*"((?:[^"\\]|\\.){1,100})"\s*,')
_KNOWN_KEYS_LIMIT: Final = 4096
# The fields that name a ``{"name": ..., "value": ...}`` record (a header as HAR writes it).
RECORD_NAME_FIELDS: Final = ("name", "key", "header")
_SCHEMA_PROPERTIES: Final = "properties"


def is_secret_key(key: str) -> bool:
    """Whether a value under ``key`` is a secret: ``api_key``, ``PGPASSWORD``, ``accessKey``, ...

    >>> is_secret_key("OPENAI_API_KEY"), is_secret_key("max_tokens")
    (True, False)
    """
    words = _SEPARATORS.split(_CAMEL_BOUNDARY.sub("_", key))
    last = next((word for word in reversed(words) if word), "").casefold()
    return last in _SECRET_WORDS or last.endswith(_SECRET_ENDINGS)


def contains_secret_keys(text: str) -> bool:
    """Whether JSON ``text`` has a key (or a header name) that is a secret name.

    Found without parsing: each ``":`` ends an object key (a few false candidates, such as an
    escaped quote followed by a colon, only cost a lookup), and a pair's name opens a list.
    """
    if not text.startswith(("{", "[", '"{', '"[')):
        return False  # a number, or a string that is not JSON text itself: no keys at all
    pieces = text.split('":')
    pieces.pop()
    # Each piece's text after its last quote, the same few keys many times over: made a set in
    # C, and only keys not known to be plain are looked at one by one.
    keys = set(map(_third, map(_split_at_last_quote, pieces)))
    unknown = keys.difference(_plain_keys)
    if unknown and any(map(is_secret_spelling, unknown)):
        return True
    record = not keys.isdisjoint(RECORD_NAME_FIELDS)
    if record and '"value":' in text:
        return True  # perhaps ``{"name": "Cookie", "value": ...}``: the walk decides
    return "[" in text and any(map(is_secret_spelling, _PAIR_NAME.findall(text)))


_split_at_last_quote: Final = operator.methodcaller("rpartition", '"')
_third: Final = operator.itemgetter(2)

# What each key seen so far is: an app records the same few keys over and over.
_known_keys: dict[str, bool] = {}
_plain_keys: set[str] = set()  # those of them that are not secret names


def is_secret_spelling(key: str) -> bool:
    """:func:`is_secret_key` of a key as JSON spells it (escapes and all), remembered."""
    known = _known_keys.get(key)
    if known is None:
        try:
            name = json.loads(f'"{key}"') if "\\" in key else key
        except ValueError:
            name = key
        known = is_secret_key(name) if isinstance(name, str) else False
        if len(_known_keys) >= _KNOWN_KEYS_LIMIT:
            _known_keys.clear()  # unbounded key sets (ids as keys): start over
            _plain_keys.clear()
        _known_keys[key] = known
        if not known:
            _plain_keys.add(key)
    return known


def redact_json(text: str) -> str:
    """``text`` (JSON) with the values of secret-named keys replaced, at any depth."""
    redacted = json.dumps(_redact(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    try:
        redacted.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escaped in the input: keep it escaped
        redacted = json.dumps(_redact(json.loads(text)), separators=(",", ":"))
    return redacted


def _redact(value: Any, schema_properties: bool = False) -> Any:
    if isinstance(value, str):
        return _redact_json_text(value)
    if isinstance(value, dict):
        if schema_properties:  # parameter names of a schema, each with its own schema
            return {key: _redact(item) for key, item in value.items()}
        if _is_secret_record(value):
            value = {**value, "value": REDACTED}
        return {
            key: REDACTED
            if is_secret_key(key)
            else _redact(item, key == _SCHEMA_PROPERTIES and isinstance(item, dict))
            for key, item in value.items()
        }
    if isinstance(value, list):
        if _is_secret_pair(value):
            return [value[0], REDACTED]
        return [_redact(item) for item in value]
    return value


def _redact_json_text(value: str) -> str:
    """A string that is itself JSON (a tool call's arguments as the model wrote them, a request
    body), redacted inside; any other string as it is."""
    if not value.startswith(("{", "[")) or '":' not in value:
        return value
    try:
        inner = json.loads(value)
    except ValueError:
        return value
    if not isinstance(inner, (dict, list)):
        return value
    redacted = _redact(inner)
    return value if redacted == inner else json.dumps(redacted, ensure_ascii=False)


def _is_secret_pair(value: list[Any]) -> bool:
    """``["Authorization", "Bearer ..."]``: a header (or setting) as a name and a value."""
    return (
        len(value) == 2
        and isinstance(value[0], str)
        and not isinstance(value[1], (dict, list))
        and is_secret_key(value[0])
    )


def _is_secret_record(value: dict[str, Any]) -> bool:
    """``{"name": "Cookie", "value": "..."}``: a header as HAR and many HTTP tools write it."""
    if "value" not in value:
        return False
    for field in RECORD_NAME_FIELDS:
        name = value.get(field)
        if isinstance(name, str):
            return is_secret_key(name)
    return False


# ---------------------------------------------------------------------------------------------
# By shape.

# Characters a credential is made of: never a quote or a backslash, so a match never cuts a JSON
# string's escape in two and the text stays JSON whether it was encoded or not.
_TOKEN: Final = r"[A-Za-z0-9._~+/-]"


class _Shape:
    """One credential format: its probes (substrings, one of which the format cannot occur
    without), and the expression that replaces it."""

    __slots__ = ("_compiled", "_pattern", "probes", "replacement")

    def __init__(self, probes: str | tuple[str, ...], pattern: str, replacement: str = REDACTED):
        # plain substrings: each `in` is a C scan, several times faster than any expression
        self.probes = (probes,) if isinstance(probes, str) else probes
        self._pattern = pattern
        self._compiled: re.Pattern[str] | None = None
        self.replacement = replacement

    def redact(self, text: str) -> str:
        # Compiled on the first text its probe finds, not at import (2 ms of start-up for
        # expressions most programs never need).
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern)
        return compiled.sub(self.replacement, text)


_SHAPES: Final = (
    # ``Authorization: Bearer <token>`` and the like; a token has a digit (English words do not).
    # (Each expression starts with its literal, which the engine then finds fast.)
    _Shape(
        "earer",
        # the space may be a tab or newline escaped by JSON (``\t``)
        rf"earer(?<=\b[Bb]earer)((?:\s|\\[tn])+)(?={_TOKEN}*[0-9]){_TOKEN}{{8,}}=*",
        rf"earer\g<1>{REDACTED}",
    ),
    _Shape(
        "Basic ",
        r"\b(Basic\s+)(?=[A-Za-z+/]*[0-9])[A-Za-z0-9+/]{12,}={0,2}",
        rf"\g<1>{REDACTED}",
    ),
    # OpenAI and Anthropic keys (``sk-``, ``sk-proj-``, ``sk-ant-``), Stripe secret keys.
    _Shape("sk-", r"sk-(?<=\bsk-)[A-Za-z0-9_-]{20,}"),
    _Shape("k_live_", r"\b[sr]k_live_[A-Za-z0-9]{10,}"),
    # AWS access key ids and Google API keys.
    _Shape(("AKIA", "ASIA", "AIza"), r"\b(?:(?:AKIA|ASIA)[A-Z0-9]{16}\b|AIza[0-9A-Za-z_-]{35})"),
    # PEM private keys, whole; one cut short (by a size limit) up to the end of its string.
    _Shape(
        "PRIVATE KEY",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:(?:[^\"\\-]|\\.|-(?!----END))*"
        r"-----END [A-Z0-9 ]*PRIVATE KEY-----|(?:[^\"\\]|\\.)*)",
    ),
    # GitHub tokens (personal, OAuth, app), Slack tokens, JSON Web Tokens (``eyJ`` is ``{"``).
    _Shape(
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})",
    ),
    _Shape("xox", r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}"),
    _Shape("eyJ", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # A URL's password: ``scheme://user:password@host``.
    _Shape("://", r"://([^\s:@/\"\\]+):[^\s@/\"\\]+@", rf"://\g<1>:{REDACTED}@"),
)

# ``password=...``, ``?token=...``, ``OPENAI_API_KEY=...``: query strings, env, command lines.
# Found from each ``=`` backwards (a name ending so), never by an expression over the whole text.
_ASSIGNED_ENDINGS: Final = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "_key",
    "-key",
    "auth",
)
# Values that are code or settings rather than secrets: ``key=lambda``, ``primary_key=True``.
_ASSIGNED_VALUE: Final = re.compile(
    r"([ \t]*)(?!\[REDACTED\]|=|(?:True|False|None|null|true|false|lambda|enabled|disabled)\b)"
    r"[^\s&\"'\\,;)]+"
)


# Every probe with its shape, for one flat loop (no call per shape: most text has no hit).
_PROBES: Final = tuple((probe, shape) for shape in _SHAPES for probe in shape.probes)
# Up to this many ``=`` signs, each is looked at; beyond, each name ending is searched for.
_FEW_EQUALS_SIGNS: Final = 32


def redact_shapes(text: str) -> str:
    """``text`` with credential-shaped values replaced (it may be JSON text or plain text)."""
    applied = None
    for probe, shape in _PROBES:
        if shape is not applied and probe in text:
            text = shape.redact(text)
            applied = shape
    if "=" in text:
        text = _redact_assignments(text)
    return text


def _redact_assignments(text: str) -> str:
    # The ``=`` signs after a secret-sounding name: a few are each looked at; many (base64 or
    # ``k=v`` data) are found by a C scan for each name ending, so such text costs no more.
    if text.count("=") <= _FEW_EQUALS_SIGNS:
        return _redact_at(text, _each_equals_sign(text))
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: index by hand
        return _redact_at(text, _each_equals_sign(text))
    signs: set[int] = set()
    for ending in _ASSIGNED_ENDINGS:
        at = lowered.find(ending)
        while at >= 0:
            end = at + len(ending)
            sign = end + len(lowered[end : end + 16]) - len(lowered[end : end + 16].lstrip(" \t"))
            if lowered.startswith("=", sign):
                signs.add(sign)
            at = lowered.find(ending, end)
    return _redact_at(text, sorted(signs)) if signs else text


def _each_equals_sign(text: str) -> list[int]:
    signs = []
    at = text.find("=")
    while at >= 0:
        if text[max(at - 12, 0) : at].rstrip(" \t").lower().endswith(_ASSIGNED_ENDINGS):
            signs.append(at)
        at = text.find("=", at + 1)
    return signs


def _redact_at(text: str, signs: list[int]) -> str:
    """``text`` with the value after each ``=`` at ``signs`` (in order) replaced."""
    parts: list[str] = []
    done = 0
    for sign in signs:
        if sign < done:
            continue
        value = _ASSIGNED_VALUE.match(text, sign + 1)
        if value is not None:
            parts += (text[done : sign + 1], value.group(1), REDACTED)
            done = value.end()
    return "".join((*parts, text[done:])) if parts else text


def has_credential_shapes(text: str) -> bool:
    """Whether :func:`redact_shapes` would change ``text``."""
    return redact_shapes(text) != text


# ---------------------------------------------------------------------------------------------


def scrub(text: str) -> str:
    """JSON ``text`` with every secret replaced: by key, then by shape. If the text cannot be
    parsed back to find its keys (it always can when traceroot wrote it), it is withheld whole
    rather than recorded as it is."""
    if contains_secret_keys(text):
        try:
            text = redact_json(text)
        except ValueError:
            return _WITHHELD
    return redact_shapes(text)
