"""What one connection holds in the in-process broker: its consumers, its unsettled
deliveries and its direct reply-to address. Closing it gives all of them back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vincent_core.transport.memory.queue import MemoryQueue, StoredMessage
from vincent_core.wire.envelope import Envelope

__all__ = ["Connection", "Consumer", "Unacked"]


@dataclass(eq=False)
class Connection:
    """One transport's side of the broker."""

    id: int
    #: receives the replies published to this connection's direct reply-to address
    on_reply: Callable[[Envelope], None]
    reply_token: str | None = None
    unacked: dict[int, Unacked] = field(default_factory=dict)
    consumers: list[Consumer] = field(default_factory=list)
    open: bool = True


@dataclass(slots=True, eq=False)
class Consumer:
    """A ``basic.consume``: where deliveries go and how many may be unsettled at once."""

    tag: str
    queue: MemoryQueue
    connection: Connection
    prefetch: int
    exclusive: bool
    #: hands a delivery to the consumer's event loop; False when that loop is gone
    deliver: Callable[[Unacked], bool]
    #: told (under the broker's lock) that the broker cancelled it: its queue was deleted
    cancelled_by_broker: Callable[[], None] | None = None
    unacked: int = 0
    active: bool = True

    def has_capacity(self) -> bool:
        return self.active and (self.prefetch == 0 or self.unacked < self.prefetch)


@dataclass(eq=False)
class Unacked:
    """A delivery waiting for its ack or reject (``consumer`` is None for a ``get``).

    ``envelope`` is the consumer's own copy; ``message`` the queue's, which is what a
    requeue or a dead-letter uses.
    """

    tag: int
    message: StoredMessage
    queue: MemoryQueue
    connection: Connection
    consumer: Consumer | None
    envelope: Envelope
    settled: bool = False
