"""``filter EXPR``: which messages the console shows.

An expression is words that must all hold::

    file.*  audit.#      the key matches any of these topic patterns
    !file.tmp.*          the key does not match
    ~disk full           (one word per ~) the body contains the text, case-insensitive
    user.id=42           the body field (dotted for nested objects) equals the value
    is:call              cast, call, sent, seen, loaded, dead or error

    >>> Filter.parse("file.* is:call").describe()
    'key ~ file.* · is:call'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from vincent_cli.console.parser import UsageError, split_words
from vincent_core.errors import ConfigurationError
from vincent_core.wire.routing import check_pattern as check_topic_pattern
from vincent_core.wire.routing import topic_matches

if TYPE_CHECKING:
    from vincent_cli.console.session import Entry

__all__ = ["KINDS", "Filter", "check_pattern"]

_KINDS: dict[str, Callable[[Entry], bool]] = {
    "cast": lambda e: not e.is_call,
    "call": lambda e: e.is_call,
    "sent": lambda e: e.origin == "sent",
    "seen": lambda e: e.origin == "seen",
    "loaded": lambda e: e.origin == "loaded",
    "dead": lambda e: e.origin == "dead",
    "error": lambda e: e.outcome in ("error", "timeout", "no route", "failed"),
}
KINDS: tuple[str, ...] = tuple(_KINDS)


def _field(body: Any, path: str) -> tuple[bool, Any]:
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _same(value: Any, text: str) -> bool:
    """``value`` written as ``text``: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value == text
    try:
        return bool(orjson.loads(text) == value)
    except orjson.JSONDecodeError:
        return False


def _body_text(entry: Entry) -> str:
    return entry.envelope.body.decode("utf-8", errors="replace").casefold()


@dataclass(frozen=True)
class Filter:
    """A parsed filter; the empty filter lets everything through."""

    patterns: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def parse(cls, expression: str | Sequence[str]) -> Filter:
        """Parse an expression, as a line or as words already split (see the module
        docstring); raises :class:`UsageError`."""
        patterns: list[str] = []
        excluded: list[str] = []
        texts: list[str] = []
        fields: list[tuple[str, str]] = []
        kinds: list[str] = []
        words = (
            [w.text for w in split_words(expression)] if isinstance(expression, str) else expression
        )
        for text in words:
            if text.startswith("~") and len(text) > 1:
                texts.append(text[1:].casefold())
            elif text.startswith("is:"):
                kind = text[3:]
                if kind not in _KINDS:
                    raise UsageError(f"filter: is:{kind}? use one of {', '.join(KINDS)}")
                kinds.append(kind)
            elif "=" in text and not text.startswith("="):
                name, _, value = text.partition("=")
                fields.append((name, value))
            elif text.startswith("!") and len(text) > 1:
                excluded.append(_pattern(text[1:]))
            else:
                patterns.append(_pattern(text))
        return cls(tuple(patterns), tuple(excluded), tuple(texts), tuple(fields), tuple(kinds))

    def __bool__(self) -> bool:
        return bool(self.patterns or self.excluded or self.texts or self.fields or self.kinds)

    def matches(self, entry: Entry) -> bool:
        """Whether ``entry`` passes every word of the filter."""
        key = entry.key
        if self.patterns and not any(topic_matches(p, key) for p in self.patterns):
            return False
        if any(topic_matches(p, key) for p in self.excluded):
            return False
        if not all(_KINDS[kind](entry) for kind in self.kinds):
            return False
        if self.texts:
            body = _body_text(entry)
            if not all(text in body for text in self.texts):
                return False
        if self.fields:
            body = entry.body()
            for path, expected in self.fields:
                found, value = _field(body, path)
                if not found or not _same(value, expected):
                    return False
        return True

    def describe(self) -> str:
        """The filter in words, for the ``filter`` command and the toolbar."""
        parts: list[str] = []
        if self.patterns:
            parts.append("key ~ " + " | ".join(self.patterns))
        parts += [f"key !~ {p}" for p in self.excluded]
        parts += [f"body has {t!r}" for t in self.texts]
        parts += [f"{name} = {value}" for name, value in self.fields]
        parts += [f"is:{kind}" for kind in self.kinds]
        return " · ".join(parts) or "off"


def check_pattern(text: str) -> str:
    """A topic pattern as the console takes it (:class:`UsageError` otherwise): the
    check every command shares (:func:`vincent_core.wire.routing.check_pattern`)."""
    try:
        return check_topic_pattern(text)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _pattern(text: str) -> str:
    try:
        return check_pattern(text)
    except UsageError as exc:
        raise UsageError(f"filter: {exc}") from None
