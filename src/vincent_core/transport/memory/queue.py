"""One queue of the in-process broker: its ready messages, its consumers, its timer.

Plain state with the decisions that concern a single queue (which consumer is next,
what has expired, what the queue reports); routing, dead-lettering and locking belong
to :mod:`.broker`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vincent_core.transport.base import QueueInfo, QueueSpec
from vincent_core.transport.memory.arguments import QueueArguments, parse_queue
from vincent_core.transport.memory.clock import Clock, Timer
from vincent_core.wire.envelope import Envelope

if TYPE_CHECKING:
    from vincent_core.transport.memory.connection import Connection, Consumer

__all__ = ["MemoryQueue", "StoredMessage"]


@dataclass(slots=True, eq=False)
class StoredMessage:
    """A message in a queue. ``expires_at`` is on the broker's clock."""

    envelope: Envelope
    enqueued_at: float
    expires_at: float | None
    redelivered: bool = False
    #: how many times it came back unsettled (a quorum queue's delivery count)
    returns: int = 0

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def shift(self, seconds: float) -> None:
        """Move to another clock's scale, keeping the time left."""
        self.enqueued_at += seconds
        if self.expires_at is not None:
            self.expires_at += seconds


@dataclass(eq=False)
class MemoryQueue:
    """A declared queue and everything in it."""

    spec: QueueSpec
    owner: Connection | None = None
    ready: deque[StoredMessage] = field(default_factory=deque)
    consumers: list[Consumer] = field(default_factory=list)
    timer: Timer | None = None
    timer_due: float | None = None
    deleted: bool = False
    _next_consumer: int = 0
    arguments: QueueArguments = field(init=False)

    def __post_init__(self) -> None:
        self.arguments = parse_queue(self.spec)

    @property
    def name(self) -> str:
        return self.spec.name

    def info(self) -> QueueInfo:
        return QueueInfo(self.name, len(self.ready), len(self.consumers))

    def expiry(self, now: float, per_message: float | None) -> float | None:
        """When a message entering now expires: the sooner of its own ``expiration``
        and the queue's ``x-message-ttl``."""
        ttls = [ttl for ttl in (per_message, self.arguments.message_ttl) if ttl is not None]
        return now + min(ttls) if ttls else None

    def head_due(self) -> float | None:
        """When the head message expires. Like a RabbitMQ classic queue, only the head is
        looked at: a short-lived message behind a long-lived one waits its turn."""
        return self.ready[0].expires_at if self.ready else None

    def take_expired(self, now: float) -> list[StoredMessage]:
        """Remove the expired messages at the head."""
        expired: list[StoredMessage] = []
        while self.ready and self.ready[0].expired(now):
            expired.append(self.ready.popleft())
        return expired

    def refuses_more(self) -> bool:
        """Full, and set to refuse new messages (``x-overflow: reject-publish``)."""
        limit = self.arguments.max_length
        return (
            self.arguments.overflow == "reject-publish"
            and limit is not None
            and len(self.ready) >= limit
        )

    def take_overflow(self) -> list[StoredMessage]:
        """Remove messages from the head beyond ``x-max-length`` (RabbitMQ's drop-head)."""
        limit = self.arguments.max_length
        dropped: list[StoredMessage] = []
        while limit is not None and len(self.ready) > limit:
            dropped.append(self.ready.popleft())
        return dropped

    def next_consumer(self) -> Consumer | None:
        """The next consumer in round-robin order that may take another delivery."""
        count = len(self.consumers)
        for step in range(count):
            index = (self._next_consumer + step) % count
            consumer = self.consumers[index]
            if consumer.has_capacity():
                self._next_consumer = (index + 1) % count
                return consumer
        return None

    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers.append(consumer)

    def remove_consumer(self, consumer: Consumer) -> None:
        if consumer in self.consumers:
            index = self.consumers.index(consumer)
            del self.consumers[index]
            if index < self._next_consumer:
                self._next_consumer -= 1
            if self.consumers:
                self._next_consumer %= len(self.consumers)
            else:
                self._next_consumer = 0

    def has_exclusive_consumer(self) -> bool:
        return any(consumer.exclusive for consumer in self.consumers)

    def arm(self, clock: Clock, on_due: Callable[[MemoryQueue], None]) -> None:
        """Keep one timer, due when the head expires, so that an expired message is
        dead-lettered on time even when nobody publishes or consumes (vincent's retry
        delays rely on it). ``on_due`` runs then."""
        due = None if self.deleted else self.head_due()
        if due is None:
            self.cancel_timer()
            return
        if self.timer is not None and self.timer.active and self.timer_due == due:
            return
        self.cancel_timer()
        armed: list[Timer] = []

        def fire() -> None:
            # A timer cancelled from another thread may still fire once: harmless, as
            # ``on_due`` only acts on what is due, but it must not forget the new timer.
            if armed and self.timer is armed[0]:
                self.timer, self.timer_due = None, None
            on_due(self)

        armed.append(clock.call_later(due - clock.now(), fire))
        self.timer, self.timer_due = armed[0], due

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer, self.timer_due = None, None
