"""Text from messages and the broker, made safe to show on a terminal.

A routing key, a header, a body, a queue name or an error text comes from whoever could
publish to the exchange. Written raw, ``\\x1b[2J`` clears the operator's screen, an
unterminated OSC sequence swallows the output or retitles the window, and ``[red]`` is
taken as rich markup. :func:`terminal_text` is the one sanitiser every human view uses:
C0 and C1 control characters, DEL and the Unicode bidirectional overrides come out as
visible escapes (``\\x1b``, ``\\u202e``). Callers hand the result to rich as
:class:`rich.text.Text` (or with ``markup=False``), never as a markup string.

Pipes get the exact data (JSON lines, records); this module is for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["json_text", "terminal_text"]

# C0 controls, DEL, C1 controls; then the bidirectional embeddings, overrides and
# isolates, and the Unicode line and paragraph separators, which reorder or break what
# a person reads without being "control characters" to Python.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_INVISIBLE = [0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(code: int) -> str:
    return f"\\u{code:04x}"


_ONE_LINE = {code: _escape(code) for code in (*_CONTROLS, *_INVISIBLE)}
_MULTILINE = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}
# JSON text keeps its newlines and indentation and stays valid JSON: orjson already
# escapes C0 controls inside strings, so what remains is written as \\u00XX.
_JSON = {code: _json_escape(code) for code in _MULTILINE}


def terminal_text(value: object, *, multiline: bool = False, json: bool = False) -> str:
    """``str(value)`` with control characters escaped, for a terminal.

    One line by default (a table cell, a key: newlines and tabs are escaped too);
    ``multiline=True`` keeps newlines and tabs (an error with its hint, a traceback);
    ``json=True`` is for JSON text and escapes as ``\\u001b`` so it stays valid JSON.

    >>> terminal_text("a\\x1b[2Jb\\n")
    'a\\\\x1b[2Jb\\\\x0a'
    """
    text = value if isinstance(value, str) else str(value)
    if json:
        return text.translate(_JSON)
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def json_text(text: str) -> Text:
    """Indented JSON text, escaped by :func:`terminal_text` and highlighted as rich's
    ``JSON`` would; rich's own ``JSON`` decodes and re-encodes, undoing the escapes."""
    from rich.highlighter import JSONHighlighter

    result = JSONHighlighter()(terminal_text(text, json=True))
    result.no_wrap = True
    result.overflow = None
    return result
