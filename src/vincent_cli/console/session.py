"""What the console remembers: a numbered history of every message seen and sent.

Pure state, no I/O: the commands and the taps add entries, the renderers and the
completer read them.

::

    session = Session(exchange="vincent")
    entry = session.record(envelope, origin="sent")
    assert session.history.get(entry.number) is entry
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from vincent_cli.console.filtering import Filter
from vincent_core.wire.codec import UndecodableBody, decode_body
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.routing import topic_matches

__all__ = ["Entry", "History", "Origin", "Outcome", "Session"]

#: ``sent`` from this console, ``seen`` by a tap, ``loaded`` from a file, ``dead``: the
#: original message of a dead letter listed by ``dead``
Origin = Literal["sent", "seen", "loaded", "dead"]
#: what became of a message this console sent
Outcome = Literal[
    "sending", "sent", "waiting", "ok", "error", "timeout", "no route", "cancelled", "failed"
]

#: the most keys remembered for completion; old ones go first
_MAX_KEYS = 500
#: the most body field names remembered per key
_MAX_FIELDS = 50


@dataclass(eq=False)
class Entry:
    """One numbered message in the history, with what became of it."""

    number: int
    origin: Origin
    envelope: Envelope
    at: datetime
    outcome: Outcome | None = None
    #: the reply to a call sent from here, once it arrived
    reply: Envelope | None = None
    #: a one-line reason for ``error``, ``timeout``, ``no route``, ``failed``
    detail: str = ""
    #: seconds between sending a call and its reply (or its failure)
    elapsed: float | None = None
    #: for a tapped copy of a message this console sent: that entry's number
    echo_of: int | None = None
    #: for a message replayed or edited from another entry: that entry's number
    source: int | None = None
    #: for a message listed by ``dead``: the dead letter as it sat in its queue
    dead_letter: Envelope | None = None

    @property
    def key(self) -> str:
        """The routing key."""
        return self.envelope.routing_key

    @property
    def is_call(self) -> bool:
        """A request that expects a reply (it has ``reply_to``)."""
        return bool(self.envelope.reply_to)

    def body(self) -> Any:
        """The decoded body: JSON when it is JSON, raw bytes otherwise."""
        return decoded(self.envelope)


def decoded(envelope: Envelope) -> Any:
    """An envelope's body as a Python value; bytes when it is not (valid) JSON."""
    try:
        return decode_body(envelope.body, envelope.content_type)
    except UndecodableBody:
        return envelope.body


class History:
    """Entries numbered from 1, in the order they happened."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []

    def add(
        self, envelope: Envelope, origin: Origin, *, at: datetime | None = None, **details: Any
    ) -> Entry:
        """Append a message; it gets the next number."""
        entry = Entry(len(self._entries) + 1, origin, envelope, at or datetime.now(UTC), **details)
        self._entries.append(entry)
        return entry

    def get(self, number: int) -> Entry | None:
        """Entry ``number``, or ``None`` when there is none."""
        if 1 <= number <= len(self._entries):
            return self._entries[number - 1]
        return None

    def select(self, numbers: Iterable[int]) -> list[Entry]:
        """The entries with these numbers that exist, in history order, once each."""
        wanted = set(numbers)
        return [entry for entry in self._entries if entry.number in wanted]

    def last(self, count: int | None = None, pattern: str | None = None) -> list[Entry]:
        """The last ``count`` entries (all by default) whose key matches ``pattern``."""
        entries = [e for e in self._entries if pattern is None or topic_matches(pattern, e.key)]
        if count is not None:
            entries = entries[max(0, len(entries) - count) :]
        return entries

    def by_message_id(self, message_id: str | None, origin: Origin = "sent") -> Entry | None:
        """The latest entry of ``origin`` with this ``message_id``."""
        if not message_id:
            return None
        for entry in reversed(self._entries):
            if entry.origin == origin and entry.envelope.message_id == message_id:
                return entry
        return None

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)


@dataclass
class Session:
    """The console's state: history, taps, counters, the display filter, known keys."""

    exchange: str
    masked_url: str = ""
    history: History = field(default_factory=History)
    #: patterns tapped right now, in the order they were added
    taps: list[str] = field(default_factory=list)
    seen: int = 0
    sent: int = 0
    state: str = "connecting"
    #: what the tap output and ``history`` show
    filter: Filter = field(default_factory=Filter)
    #: keys declared by the ``--app`` (patterns included)
    app_keys: list[str] = field(default_factory=list)
    #: body fields the ``--app``'s typed handlers declare, by key
    app_fields: dict[str, list[str]] = field(default_factory=dict)
    #: routing keys met in traffic, most recent last, with body field names seen
    _keys: dict[str, list[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def record(self, envelope: Envelope, origin: Origin, **details: Any) -> Entry:
        """Add a message to the history, count it and learn its key and fields."""
        if origin == "seen":
            self.seen += 1
            echo = self.history.by_message_id(envelope.message_id)
            if echo is not None:
                details.setdefault("echo_of", echo.number)
        elif origin == "sent":
            self.sent += 1
        entry = self.history.add(envelope, origin, **details)
        self.learn(entry)
        return entry

    def learn(self, entry: Entry) -> None:
        """Remember the entry's key, and the field names of its JSON object body."""
        fields = self._keys.pop(entry.key, [])
        body = entry.body()
        if isinstance(body, dict):
            for name in body:
                if isinstance(name, str) and name not in fields:
                    fields.append(name)
            del fields[:-_MAX_FIELDS]
        self._keys[entry.key] = fields
        while len(self._keys) > _MAX_KEYS:
            del self._keys[next(iter(self._keys))]

    def known_keys(self) -> list[str]:
        """Keys to complete: from traffic (most recent first), then the app's."""
        keys = list(reversed(self._keys))
        keys += [key for key in self.app_keys if key not in self._keys]
        return keys

    def fields_of(self, key: str) -> list[str]:
        """Body field names the app's typed handler declares for ``key``, then those seen
        in messages to it."""
        return list(dict.fromkeys([*self.app_fields.get(key, []), *self._keys.get(key, [])]))
