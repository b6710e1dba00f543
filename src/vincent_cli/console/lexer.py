"""Highlighting as the user types: the command, options, items, and JSON bodies.

:func:`highlight` is pure (text in, styled fragments out); :class:`ConsoleLexer`
adapts it to prompt_toolkit, line by line for multiline input.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from vincent_cli.console.grammar import lookup
from vincent_cli.console.parser import split_words

__all__ = ["ConsoleLexer", "highlight", "json_styles"]

_JSON_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"?)
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<keyword>true|false|null)
      | (?P<punct>[{}\[\],:])
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def json_styles(text: str) -> list[str]:
    """A style class per character of a JSON text (keys apart from string values)."""
    styles: list[str] = []
    tokens = list(_JSON_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        kind = token.lastgroup or "other"
        if kind == "string":
            following = next((t for t in tokens[index + 1 :] if t.lastgroup != "space"), None)
            is_key = following is not None and following.group() == ":"
            kind = "key" if is_key else "string"
        style = "" if kind in ("space", "other") else f"class:json.{kind}"
        styles.extend([style] * len(token.group()))
    return styles


def _item_styles(raw: str) -> list[str] | None:
    """Styles for ``name=value`` / ``name:=json`` written as ``raw``, or ``None``."""
    for operator in (":=", "="):
        at = raw.find(operator)
        if at > 0:
            value = raw[at + len(operator) :]
            value_styles = (
                json_styles(value) if operator == ":=" else ["class:item.value"] * len(value)
            )
            return ["class:item.name"] * at + ["class:item.operator"] * len(operator) + value_styles
    return None


def highlight(text: str) -> list[str]:
    """A style class for every character of ``text`` (the whole, possibly multiline,
    input)."""
    styles = [""] * len(text)
    for position, word in enumerate(split_words(text)):
        raw = text[word.start : word.end]
        if position == 0:
            word_styles = ["class:command" if lookup(word.text) else "class:command.unknown"] * len(
                raw
            )
        elif word.json:
            word_styles = json_styles(raw)
        elif raw.startswith("-") and raw != "-":
            word_styles = ["class:option"] * len(raw)
        else:
            word_styles = _item_styles(raw) or [""] * len(raw)
        styles[word.start : word.end] = word_styles[: len(raw)]
    return styles


class ConsoleLexer(Lexer):
    """prompt_toolkit's view of :func:`highlight` (of :func:`json_styles` for a buffer
    that holds only JSON)."""

    def __init__(self, *, json_only: bool = False) -> None:
        self.json_only = json_only

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        text = document.text
        styles = json_styles(text) if self.json_only else highlight(text)
        starts = [0]
        for line in document.lines:
            starts.append(starts[-1] + len(line) + 1)

        def get_line(number: int) -> StyleAndTextTuples:
            if number >= len(document.lines):
                return []
            start = starts[number]
            line = document.lines[number]
            fragments: StyleAndTextTuples = []
            for offset, char in enumerate(line):
                style = styles[start + offset] if start + offset < len(styles) else ""
                if fragments and fragments[-1][0] == style:
                    fragments[-1] = (style, fragments[-1][1] + char)
                else:
                    fragments.append((style, char))
            return fragments

        return get_line
