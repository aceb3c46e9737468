"""Endpoint URLs as the CLI shows and uses them: credentials masked, clear text flagged."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

# ``scheme://user:password@host``: the part before ``@`` of the authority, wherever a URL appears.
_USERINFO: Final = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")


def masked(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on the scheme, host and port of ``base``."""
    try:
        left, right = urlsplit(url), urlsplit(base)
        return (left.scheme, left.hostname, left.port) == (right.scheme, right.hostname, right.port)
    except ValueError:  # a port that is not a number
        return False


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed_over_plain_http(url: str, headers: Mapping[str, str]) -> str | None:
    """What secret ``url`` would carry in clear text (headers, a password in the URL) to a host
    other than this machine, said in a few words; ``None`` when nothing would be."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or is_loopback(host):
        return None
    secrets = []
    if headers:
        names = ", ".join(sorted(headers))
        secrets.append(f"the header{'s' if len(headers) > 1 else ''} {names}")
    if parts.password or parts.username:
        secrets.append("the URL's user:password")
    return " and ".join(secrets) or None
