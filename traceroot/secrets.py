"""Values under secret-looking keys never reach a span.

Captured content (inputs, outputs, messages, tool arguments) is JSON by the time it is recorded.
A few substring scans of that text rule out nearly all of it; what is left gets a
regular-expression pass that finds keys like ``api_key``, ``password`` or ``authorization``, and
only then is the value parsed and those entries replaced. Ids such as ``session_id`` and
``trace_id`` are not secrets and are kept.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

REDACTED: Final = "[REDACTED]"

_SECRET_NAMES: Final = (
    r"api[_-]?key|apikey|password|passwd|pwd|secret|client[_-]?secret|authorization|auth|"
    r"bearer|token|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|"
    r"private[_-]?key|secret[_-]?key|credentials?|cookie|set[_-]?cookie"
)
# A JSON object key that is a secret name, alone or as the last part of a longer name
# (``openai_api_key``, ``x-api-key``), case-insensitively.
_SECRET_KEY_IN_JSON: Final = re.compile(
    rf'"(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_NAMES})"\s*:', re.IGNORECASE
)
_SECRET_KEY: Final = re.compile(rf"(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_NAMES})", re.IGNORECASE)


# How every secret name ends, followed by the quote closing a JSON key. Text with none of these
# (nearly all text) cannot match the expression above; a few substring scans in C settle that
# far sooner than the expression or a walk over the value would.
_ENDINGS: Final = (
    'key"',
    'password"',
    'passwd"',
    'pwd"',
    'secret"',
    'auth"',
    'authorization"',
    'bearer"',
    'token"',
    'credential"',
    'credentials"',
    'cookie"',
)


def contains_secret_keys(text: str) -> bool:
    """Whether JSON ``text`` has an object key that is a secret name."""
    if not text.startswith(("{", "[")):
        return False  # a string or number: no keys at all
    # casefold, not lower: it folds what the expression's IGNORECASE also matches (a long s).
    folded = text.lower() if text.isascii() else text.casefold()
    for ending in _ENDINGS:
        if ending in folded:
            return _SECRET_KEY_IN_JSON.search(text) is not None
    return False


def is_secret_key(key: str) -> bool:
    return _SECRET_KEY.fullmatch(key) is not None


def redact_json(text: str) -> str:
    """``text`` (JSON) with the values of secret-named keys replaced, at any depth."""
    return json.dumps(_redact(json.loads(text)), ensure_ascii=False, separators=(",", ":"))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key(key) else _redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value
