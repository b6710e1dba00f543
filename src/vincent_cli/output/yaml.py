"""JSON-ready data as block-style YAML, without a YAML library.

Enough for documents vincent writes (``vincent asyncapi --format yaml``): mappings,
sequences, strings, numbers, booleans and null. A string is written plain only when
YAML 1.1 and 1.2 would both read it back as that same string; anything else is written
double-quoted in JSON syntax, which YAML reads as the same string; a multi-line text
(a docstring) as a literal block when it reads back exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["dump_yaml"]

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./ -]*$")
_RESERVED = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", "inf",
}  # fmt: skip
_NUMBER = re.compile(r"^[-+]?(\.?[0-9]|0[box])")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _RESERVED
        and not _NUMBER.match(text)
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _block(text: str) -> bool:
    """A multi-line string that reads back exactly from a ``|-`` literal block."""
    if "\n" not in text or text.endswith("\n") or text[:1] in (" ", "\n"):
        return False
    return all(line == line.rstrip() and all(ch >= " " for ch in line) for line in text.split("\n"))


def _lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        if not value:
            return [f"{indent}{{}}"]
        lines: list[str] = []
        for key, item in value.items():
            head = f"{indent}{_scalar(str(key))}:"
            if isinstance(item, dict | list) and item:
                lines.append(head)
                lines.extend(_lines(item, indent + "  "))
            elif isinstance(item, str) and _block(item):
                lines.append(f"{head} |-")
                lines.extend(f"{indent}  {line}" if line else "" for line in item.split("\n"))
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [f"{indent}[]"]
        lines = []
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = _lines(item, indent + "  ")
                lines.append(f"{indent}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{indent}- {_inline(item)}")
        return lines
    return [f"{indent}{_scalar(value)}"]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_yaml(data: Any) -> str:
    """``data`` (JSON-ready) as a YAML document, ending with a newline."""
    return "\n".join(_lines(data, "")) + "\n"
