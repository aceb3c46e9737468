"""GenAI messages written straight to JSON text, for what most model calls carry: text only.

The general path builds each message as dicts (:func:`traceroot.genai.message`) and encodes them
with the secret scan. A text-only message has only the GenAI shape's own object keys (``role``,
``parts``, ``type``, ``content``, ``finish_reason``), so no key can be a secret's and it can be
written directly, in a third of the time; :func:`traceroot.spans.prewritten_into` then records it
(the redact hook, the size budget and credential-shaped text still send it the general way).

The integrations' writers (LangChain messages, Chat Completions requests and replies) produce
exactly the JSON of the general path; ``tests/test_written_messages.py`` holds them to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from json.encoder import encode_basestring as quote


def text_parts(text: str) -> str:
    """The parts of a message whose content is ``text``."""
    return '[{"type":"text","content":' + quote(text) + "}]"


def texts_parts(texts: Iterable[str]) -> str:
    """The parts of a message whose content is these texts, one part each."""
    return "[" + ",".join('{"type":"text","content":' + quote(text) + "}" for text in texts) + "]"


def message(role: str, parts: str, finish_reason: str | None = None) -> str:
    """A message from its role and its ``parts`` as written JSON."""
    if finish_reason is None:
        return '{"role":' + quote(role) + ',"parts":' + parts + "}"
    return (
        '{"role":'
        + quote(role)
        + ',"parts":'
        + parts
        + ',"finish_reason":'
        + quote(finish_reason)
        + "}"
    )


def array(messages: Iterable[str]) -> str:
    return "[" + ",".join(messages) + "]"
