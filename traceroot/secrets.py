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

# How a secret name's JSON key ends: text with none of these (nearly all text) holds no secret
# key. Checked on the case-folded text by substring tests, far sooner than any expression.
_KEY_ENDINGS: Final = (
    'key"',
    'pwd"',
    'auth"',
    'authorization"',
    'bearer"',
    'cookie"',
    'credential"',
    'credentials"',
    *(f'{ending}"' for ending in _SECRET_ENDINGS),
)
# A JSON string that may be a secret key: followed by ``:`` (an object key), or by ``,`` or ``]``
# (the name of a ``[name, value]`` pair or of a ``{"name": ..., "value": ...}`` record). Loose on
# purpose: a match only sends the text to the parse, where :func:`is_secret_key` decides.
_CANDIDATE_KEY: Final = re.compile(
    r'"[^"\\]{0,200}?(?:key|pwd|auth|authorization|bearer|cookies?|credentials?|'
    + "|".join(_SECRET_ENDINGS)
    + r')"\s*[:,\]}]',
    re.IGNORECASE,
)
_NAME_FIELDS: Final = ("name", "key", "header")
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
    """Whether JSON ``text`` may have a key (or a header name) that is a secret name."""
    if not text.startswith(("{", "[")):
        return False  # a string or number: no keys at all
    if "\\u" in text:
        return True  # a key may be spelled in escapes (``pa\\u017fsword``): parse to be sure
    # casefold, not lower: it folds what the expression's IGNORECASE also matches (a long s).
    folded = text.lower() if text.isascii() else text.casefold()
    for ending in _KEY_ENDINGS:
        if ending in folded:
            return _CANDIDATE_KEY.search(text) is not None
    return False


def redact_json(text: str) -> str:
    """``text`` (JSON) with the values of secret-named keys replaced, at any depth."""
    redacted = json.dumps(_redact(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    try:
        redacted.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escaped in the input: keep it escaped
        redacted = json.dumps(_redact(json.loads(text)), separators=(",", ":"))
    return redacted


def _redact(value: Any, schema_properties: bool = False) -> Any:
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
    for field in _NAME_FIELDS:
        name = value.get(field)
        if isinstance(name, str):
            return is_secret_key(name)
    return False


# ---------------------------------------------------------------------------------------------
# By shape.

# Characters a credential is made of: never a quote or a backslash, so a match never cuts a JSON
# string's escape in two and the text stays JSON whether it was encoded or not.
_TOKEN: Final = r"[A-Za-z0-9._~+/-]"
_ASSIGNED_NAMES: Final = (
    r"[a-z0-9_-]*?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|[a-z0-9]+[_-]key|auth)"
)


class _Shape:
    """One credential format: the substrings without which it cannot occur (the cheap test), the
    expression, and what a match becomes."""

    __slots__ = ("pattern", "probes", "replacement")

    def __init__(
        self, probes: tuple[str, ...], pattern: str, replacement: str, flags: int = 0
    ) -> None:
        self.probes = probes
        self.pattern = re.compile(pattern, flags)
        self.replacement = replacement


_SHAPES: Final = (
    # ``Authorization: Bearer <token>`` and the like; a token has a digit (English words do not).
    _Shape(
        ("earer", "EARER"),
        rf"\b((?i:bearer)\s+)(?={_TOKEN}*[0-9]){_TOKEN}{{8,}}=*",
        rf"\g<1>{REDACTED}",
    ),
    _Shape(
        ("asic", "ASIC"),
        r"\b((?i:basic)\s+)(?=[A-Za-z+/]*[0-9+/])[A-Za-z0-9+/]{12,}={0,2}",
        rf"\g<1>{REDACTED}",
    ),
    # OpenAI / Anthropic (``sk-``, ``sk-proj-``, ``sk-ant-``) and Stripe secret keys.
    _Shape(
        ("sk-", "sk_", "rk_"),
        r"\b(?:sk-[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{10,})",
        REDACTED,
    ),
    # AWS access key ids.
    _Shape(
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"),
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b",
        REDACTED,
    ),
    # PEM private keys, whole; one cut short (by a size limit) up to the end of its string.
    _Shape(
        ("PRIVATE KEY",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:(?:[^\"\\-]|\\.|-(?!----END))*"
        r"-----END [A-Z0-9 ]*PRIVATE KEY-----|(?:[^\"\\]|\\.)*)",
        REDACTED,
    ),
    # GitHub, Slack and Google API tokens.
    _Shape(
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
        REDACTED,
    ),
    _Shape(("xox",), r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}", REDACTED),
    _Shape(("AIza",), r"\bAIza[0-9A-Za-z_-]{35}", REDACTED),
    # JSON Web Tokens: three base64url parts, the first two JSON objects (``eyJ`` is ``{"``).
    _Shape(
        ("eyJ",),
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        REDACTED,
    ),
    # A URL's password: ``scheme://user:password@host``.
    _Shape(
        ("://",),
        r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:@/\"\\]+:)[^\s@/\"\\]+@",
        rf"\g<1>{REDACTED}@",
    ),
    # ``password=...``, ``?token=...``, ``OPENAI_API_KEY=...``: query strings, env, command lines.
    _Shape(
        ("=",),
        rf"\b({_ASSIGNED_NAMES}\s*=\s*)(?!\[REDACTED\])[^\s&\"'\\,;)]+",
        rf"\g<1>{REDACTED}",
        re.IGNORECASE,
    ),
)


def has_credential_shapes(text: str) -> bool:
    """Whether :func:`redact_shapes` would change ``text``."""
    for shape in _SHAPES:
        for probe in shape.probes:
            if probe in text:
                if shape.pattern.search(text) is not None:
                    return True
                break
    return False


def redact_shapes(text: str) -> str:
    """``text`` with credential-shaped values replaced (it may be JSON text or plain text)."""
    for shape in _SHAPES:
        for probe in shape.probes:
            if probe in text:
                text = shape.pattern.sub(shape.replacement, text)
                break
    return text


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
