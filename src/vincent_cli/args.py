"""Message bodies and headers from the command line (no I/O besides reading BODY).

``vincent cast KEY [BODY] [ITEM...]``:

- BODY is JSON (``'{"key_id": 1234}'``), ``-`` (read stdin) or ``@path`` (read a file).
- ITEMs are merged into the body, httpie style: ``name=value`` sets a string,
  ``name:=json`` sets any JSON value (``count:=3``, ``tags:='["a","b"]'``). A ``=`` or
  ``:`` that belongs to the name is escaped with a backslash: ``a\\=b=1`` sets ``"a=b"``.
- ``-H name:value`` adds an AMQP header (a string).

Every mistake raises :class:`~vincent_cli.exit_codes.CommandError` (exit 2) with a
one-line message that says where the JSON broke.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vincent_cli.exit_codes import CommandError

__all__ = [
    "Item",
    "build_body",
    "parse_headers",
    "parse_item",
    "parse_json",
    "split_body_and_items",
]

_ESCAPABLE = "=:\\"
_SNIPPET = 20


@dataclass(frozen=True, slots=True)
class Item:
    """One item, parsed: ``name=value`` holds a string, ``name:=json`` any JSON value."""

    name: str
    value: Any


def parse_json(text: str | bytes, where: str) -> Any:
    """Parse JSON, or fail with a one-line message naming ``where`` and the position."""
    if isinstance(text, bytes):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError(
                f"{where} is not UTF-8 JSON; add --binary to send it as bytes"
            ) from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        source = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if not source.strip():
            raise CommandError(f"{where} is empty: expected JSON") from None
        start = max(0, exc.pos - _SNIPPET)
        near = source[start : exc.pos + _SNIPPET].replace("\n", " ")
        raise CommandError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            f" (near {near!r})"
        ) from None


def _find_separator(argument: str) -> tuple[str, str, str] | None:
    """Split ``name<sep>value`` at the first unescaped ``:=`` or ``=`` in the name part.

    Returns (unescaped name, separator, value), or None when there is no separator.
    """
    name: list[str] = []
    index = 0
    while index < len(argument):
        char = argument[index]
        if char == "\\" and index + 1 < len(argument) and argument[index + 1] in _ESCAPABLE:
            name.append(argument[index + 1])
            index += 2
            continue
        if argument.startswith(":=", index):
            return "".join(name), ":=", argument[index + 2 :]
        if char == "=":
            return "".join(name), "=", argument[index + 1 :]
        name.append(char)
        index += 1
    return None


def parse_item(argument: str) -> Item:
    """``name=value`` or ``name:=json`` as an :class:`Item`."""
    found = _find_separator(argument)
    if found is None:
        raise CommandError(f"{argument!r} is not an item: use name=value (a string) or name:=json")
    name, separator, value = found
    if not name:
        raise CommandError(f"item {argument!r} has no name before {separator!r}")
    if separator == "=":
        return Item(name, value)
    try:
        return Item(name, parse_json(value, f"the value of item {name!r}"))
    except CommandError as exc:
        # `count:=notjson`: say what := means and how to send the text instead.
        raise CommandError(
            f"{exc.message}; name:=value takes JSON (a number, true, [..], {{..}}), "
            f"for the string write {_escape(name)}={value}"
        ) from None


def _escape(name: str) -> str:
    return "".join("\\" + char if char in _ESCAPABLE else char for char in name)


def _looks_like_body(argument: str) -> bool:
    if argument == "-" or argument.startswith("@"):
        return True
    if argument.lstrip()[:1] in ("{", "[", '"'):
        return True
    return _find_separator(argument) is None


def split_body_and_items(arguments: Sequence[str]) -> tuple[str | None, list[str]]:
    """The optional BODY (the first argument, unless it is an item) and the items."""
    if arguments and _looks_like_body(arguments[0]):
        return arguments[0], list(arguments[1:])
    return None, list(arguments)


def _read_source(
    body: str, read_stdin: Callable[[], bytes] | None, cwd: Path | None
) -> tuple[bytes, str]:
    if body == "-":
        reader = read_stdin or sys.stdin.buffer.read
        return reader(), "stdin"
    path = Path(body[1:]).expanduser()
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    try:
        return path.read_bytes(), f"@{body[1:]}"
    except OSError as exc:
        raise CommandError(f"cannot read {body}: {exc.strerror or exc}") from None


def build_body(
    arguments: Sequence[str],
    *,
    binary: bool = False,
    read_stdin: Callable[[], bytes] | None = None,
    cwd: Path | None = None,
) -> Any:
    """The body a command line describes: BODY (JSON, ``-``, ``@file``) and ITEMs merged.

    With ``binary=True`` a ``-`` or ``@file`` BODY is sent as raw bytes, unparsed.
    No BODY and no items is ``{}``.
    """
    body_argument, item_arguments = split_body_and_items(arguments)
    items = [parse_item(argument) for argument in item_arguments]
    body: Any
    if body_argument is None:
        body = {}
    elif body_argument == "-" or body_argument.startswith("@"):
        data, where = _read_source(body_argument, read_stdin, cwd)
        if binary:
            if items:
                raise CommandError("items cannot be merged into a --binary body")
            return data
        body = parse_json(data, where)
    else:
        if binary:
            raise CommandError("--binary needs BODY from - (stdin) or @file")
        body = parse_json(body_argument, "BODY")
    if items:
        if not isinstance(body, dict):
            raise CommandError(
                f"items need a JSON object as BODY, not {type(body).__name__} {body!r:.40}"
            )
        _merge(body, items)
    return body


def _merge(body: dict[str, Any], items: Sequence[Item]) -> None:
    """Items into the body; a name given more than once collects its values into an
    array, as httpie does (``tag=a tag=b`` is ``{"tag": ["a", "b"]}``)."""
    grouped: dict[str, list[Any]] = {}
    for item in items:
        grouped.setdefault(item.name, []).append(item.value)
    for name, values in grouped.items():
        body[name] = values[0] if len(values) == 1 else values


def parse_headers(values: Sequence[str]) -> dict[str, Any]:
    """``-H name:value`` options as a header table (values are strings)."""
    headers: dict[str, Any] = {}
    for value in values:
        name, separator, text = value.partition(":")
        name = name.strip()
        if not separator or not name:
            raise CommandError(f"header {value!r} is not name:value")
        headers[name] = text.strip()
    return headers
