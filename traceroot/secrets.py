"""Values under secret-looking keys never reach a span.

Captured content (inputs, outputs, messages, tool arguments) is JSON by the time it is recorded.
One regular-expression pass over that text finds keys like ``api_key``, ``password`` or
``authorization``; only then is the value walked and those entries replaced. Ids such as
``session_id`` and ``trace_id`` are not secrets and are kept.
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


# The same names with separators removed, for the quick check on Python values.
_NAMES: Final = frozenset(
    {
        "apikey",
        "password",
        "passwd",
        "pwd",
        "secret",
        "clientsecret",
        "authorization",
        "auth",
        "bearer",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authtoken",
        "privatekey",
        "secretkey",
        "credential",
        "credentials",
        "cookie",
        "setcookie",
    }
)
_SEPARATORS: Final = re.compile(r"[_-]")


def may_hold_secrets(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` could carry a secret-named key: exact for dicts and lists of plain
    values (the common case, a few set lookups), ``True`` for any other object, whose keys only
    its JSON shows."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or _named_secret(key):
                return True
            if depth < 16 and may_hold_secrets(item, depth + 1):
                return True
        return False
    if isinstance(value, (list, tuple)):
        return depth < 16 and any(may_hold_secrets(item, depth + 1) for item in value)
    return not isinstance(value, (str, int, float, bool, type(None), bytes))


def _named_secret(key: str) -> bool:
    if "_" in key or "-" in key:
        parts = _SEPARATORS.split(key.lower())
        return parts[-1] in _NAMES or "".join(parts[-2:]) in _NAMES
    return key.lower() in _NAMES


def contains_secret_keys(text: str) -> bool:
    return _SECRET_KEY_IN_JSON.search(text) is not None


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
