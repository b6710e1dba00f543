"""Pairing requests with their replies: published messages in, finished exchanges out.

Sans-io: a :class:`Conversations` is fed every :class:`~vincent_core.wire.firehose.
Published` message a tracer sees (RabbitMQ's firehose, or the in-process broker's
watchers) and the time; it returns the conversations that finished::

    conversations = Conversations(exchange="vincent", patterns=["file.#"])
    for done in conversations.feed(published):
        show(done)
    for done in conversations.expire(now):     # calls whose expiration passed
        show(done)

A message published to the watched exchange with ``reply_to`` is a call: it waits for
the message published to the default exchange with routing key = its ``reply_to`` and
its ``correlation_id`` (its ``message_id`` when it has none). It finishes ``ok`` or
``error`` (the reply's ``x-vincent-status``; a reply without one is a success) or, once
its ``expiration`` passed without a reply, ``timeout``. Anything else published there is
a cast, finished at once with the queues it was routed to.

Memory is bounded: at most ``max_pending`` calls wait; past that the oldest is given up
(counted in :attr:`Conversations.evicted`). A reply that comes after its call was given
up, or to a call never seen, is counted in :attr:`Conversations.unmatched`.
"""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

from vincent_core.wire.envelope import Envelope
from vincent_core.wire.firehose import Published
from vincent_core.wire.routing import topic_matches
from vincent_core.wire.trace import Trace, read_trace

__all__ = [
    "DEFAULT_MAX_PENDING",
    "DEFAULT_WAIT",
    "STATUS_HEADER",
    "Conversation",
    "Conversations",
    "Kind",
    "Status",
]

Kind = Literal["call", "cast"]
Status = Literal["ok", "error", "timeout", "cast"]

STATUS_HEADER = "x-vincent-status"
#: calls waiting for their replies at most (the oldest is given up past it)
DEFAULT_MAX_PENDING = 10_000
#: how long a call that carries no ``expiration`` (a foreign client's) is waited for
DEFAULT_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class Conversation:
    """A finished exchange: a call with its reply (or its timeout), or a cast."""

    kind: Kind
    status: Status
    request: Published
    reply: Published | None = None

    @property
    def key(self) -> str:
        """The request's routing key."""
        return self.request.envelope.routing_key

    @property
    def latency(self) -> float | None:
        """Seconds from the request to its reply; ``None`` without a reply."""
        return None if self.reply is None else max(0.0, self.reply.at - self.request.at)

    @property
    def trace(self) -> Trace:
        """The request's trace: its ``x-vincent-trace``, or a root's own id."""
        envelope = self.request.envelope
        found = read_trace(envelope.headers)
        if found is not None:
            return found
        return Trace(envelope.message_id or envelope.correlation_id or "")

    @property
    def queues(self) -> tuple[str, ...]:
        """The queues the request was routed to (when the source said)."""
        return self.request.queues or ()

    @property
    def correlation_id(self) -> str | None:
        """The request's correlation id (a call's), or ``None``."""
        return self.request.envelope.correlation_id


_ENVELOPE_FIELDS = tuple(f.name for f in fields(Envelope))


def _pack(published: Published) -> bytes | Published:
    """A waiting request as one ``marshal`` string instead of some twenty objects.

    ``vincent trace`` keeps up to 10,000 waiting requests (issue 18 bounds the tracer at
    50 MiB); as an Envelope each costs its fields, its headers' dict, keys and values
    (~790 B with a small body), packed ~570 B. Header values marshal cannot write
    (a foreign client's decimal or timestamp) keep the request as it is.
    """
    envelope = published.envelope
    values = tuple(getattr(envelope, name) for name in _ENVELOPE_FIELDS)
    try:
        return marshal.dumps((values, published.queues, published.at, published.wall))
    except ValueError:
        return published


def _unpack(packed: bytes | Published) -> Published:
    if isinstance(packed, Published):
        return packed
    values, queues, at, wall = marshal.loads(packed)
    return Published(Envelope(*values), queues, at, wall)


class _Pending:
    """A call waiting for its reply; ordered by deadline in the heap of deadlines.

    One object per waiting call, referenced by the index and by the heap: no tuple per
    heap entry, no sequence number (a heap entry is current while the index holds that
    very object), and the request packed (:func:`_pack`).
    """

    __slots__ = ("_packed", "deadline", "pair")

    def __init__(self, request: Published, deadline: float, pair: tuple[str, str]) -> None:
        self._packed = _pack(request)
        self.deadline = deadline
        self.pair = pair

    @property
    def request(self) -> Published:
        """The request, as it was fed."""
        return _unpack(self._packed)

    def __lt__(self, other: _Pending) -> bool:
        return self.deadline < other.deadline


def _reply_status(reply: Published) -> Status:
    status = reply.envelope.headers.get(STATUS_HEADER)
    if isinstance(status, bytes):
        status = status.decode(errors="replace")
    return "error" if status == "error" else "ok"


def _wait(request: Published, default: float) -> float:
    expiration = request.envelope.expiration
    try:
        return max(0.0, float(expiration) / 1000) if expiration is not None else default
    except ValueError:
        return default


class Conversations:
    """The calls waiting for their replies; see the module's docstring.

    ``exchange`` is the exchange requests go to (``None``: any but the default one,
    where replies go). ``patterns`` are topic patterns on the request's key (none: all).
    """

    def __init__(
        self,
        *,
        exchange: str | None = None,
        patterns: Sequence[str] = (),
        max_pending: int = DEFAULT_MAX_PENDING,
        default_wait: float = DEFAULT_WAIT,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.exchange = exchange
        self.patterns = tuple(patterns)
        self.max_pending = max_pending
        self.default_wait = default_wait
        #: calls given up because more than ``max_pending`` waited
        self.evicted = 0
        #: replies that matched no waiting call
        self.unmatched = 0
        # (reply_to, correlation id) -> the waiting call, oldest first
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._deadlines: list[_Pending] = []

    def __len__(self) -> int:
        """How many calls are waiting."""
        return len(self._pending)

    def _watched(self, published: Published) -> bool:
        envelope = published.envelope
        if self.exchange is None:
            if not envelope.exchange:
                return False
        elif envelope.exchange != self.exchange:
            return False
        return not self.patterns or any(
            topic_matches(pattern, envelope.routing_key) for pattern in self.patterns
        )

    def feed(self, published: Published) -> list[Conversation]:
        """Take note of one published message; returns what it finished (its reply's
        call, or itself as a cast), and the calls whose time ran out before it."""
        finished = self.expire(published.at)
        envelope = published.envelope
        if not envelope.exchange:
            pair = (envelope.routing_key, envelope.correlation_id or "")
            waiting = self._pending.pop(pair, None)
            if waiting is not None:
                status = _reply_status(published)
                finished.append(Conversation("call", status, waiting.request, published))
                return finished
            if not self._watched(published):
                self.unmatched += 1
                return finished
        elif not self._watched(published):
            return finished
        if envelope.reply_to:
            self._wait_for_reply(published)
        else:
            finished.append(Conversation("cast", "cast", published))
        return finished

    def _wait_for_reply(self, request: Published) -> None:
        envelope = request.envelope
        assert envelope.reply_to is not None
        pair = (envelope.reply_to, envelope.correlation_id or envelope.message_id or "")
        self._pending.pop(pair, None)  # the same pair again: the newer request wins
        while len(self._pending) >= self.max_pending:
            del self._pending[next(iter(self._pending))]
            self.evicted += 1
        waiting = _Pending(request, request.at + _wait(request, self.default_wait), pair)
        self._pending[pair] = waiting
        heapq.heappush(self._deadlines, waiting)
        if len(self._deadlines) > 2 * len(self._pending) + 1024:
            self._compact()

    def _current(self, waiting: _Pending) -> bool:
        """Whether a heap entry still waits (not paired, given up or replaced)."""
        return self._pending.get(waiting.pair) is waiting

    def _compact(self) -> None:
        # Paired calls leave their deadline behind; drop those when they pile up.
        self._deadlines = list(self._pending.values())
        heapq.heapify(self._deadlines)

    def expire(self, now: float) -> list[Conversation]:
        """The calls whose expiration passed by ``now``, as ``timeout``, oldest first."""
        finished: list[Conversation] = []
        while self._deadlines and self._deadlines[0].deadline <= now:
            waiting = heapq.heappop(self._deadlines)
            if self._current(waiting):
                del self._pending[waiting.pair]
                finished.append(Conversation("call", "timeout", waiting.request))
        return finished

    def next_deadline(self) -> float | None:
        """When the next waiting call times out (monotonic time), or ``None``."""
        while self._deadlines:
            waiting = self._deadlines[0]
            if self._current(waiting):
                return waiting.deadline
            heapq.heappop(self._deadlines)
        return None
