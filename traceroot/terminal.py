"""Text fit for a terminal: what the CLI and the console exporter print passes through here.

Span names, ids, model names and LLM text come from the app, from users and from models. Printed
raw, an escape sequence in them could clear the screen, retitle the window, hide a line behind
``\\r``, forge an OSC 8 link or reorder text with a bidi override. :func:`printable` shows every
such character as a visible escape instead (``\\x1b``, ``\\u202e``), so the text stays readable
and nothing in it acts on the terminal. JSON output does not pass through here: it stays exact.
"""

from __future__ import annotations

import sys
from typing import Final

_NAMED: Final = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# C0 controls (ESC, BEL, CR, BS, ...), DEL and the C1 controls (CSI U+009B, OSC U+009D, ...) act
# on a terminal; the bidi embeddings, overrides and isolates reorder what is shown; U+2028/2029
# break lines where the layout has none. Together: every Unicode control (Cc) and separator
# (Zl, Zp), and the format characters (Cf) that move text; the other Cf (joiners) are harmless.
_ACTING: Final = [
    *range(0x20),
    *range(0x7F, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
    0x2028,
    0x2029,
]
_ONE_LINE: Final = {code: _escape(code) for code in _ACTING}
_MULTI_LINE: Final = {code: text for code, text in _ONE_LINE.items() if code not in (0x09, 0x0A)}


def printable(value: object, *, multi_line: bool = False) -> str:
    """``value`` as text that cannot act on a terminal. Newlines and tabs are escaped too unless
    ``multi_line`` (the layout is one line per item)."""
    text = value if isinstance(value, str) else str(value)
    return text.translate(_MULTI_LINE if multi_line else _ONE_LINE)


def end_quietly_on_broken_pipe() -> int:
    """After the reader of our output went away (``traceroot traces | head``): no traceback, and
    the exit status a process killed by SIGPIPE reports, as ``cat`` or ``git log`` would.
    Python's own flush of stdout at exit would fail again: point stdout at /dev/null first."""
    import os
    import signal

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (a test's capture)
        pass
    return 128 + int(getattr(signal, "SIGPIPE", 13))
