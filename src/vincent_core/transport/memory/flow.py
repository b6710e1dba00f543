"""How messages move through the in-process broker: into queues, out to consumers, back
on a requeue, away when they expire or are rejected. RabbitMQ's rules, one place.

The broker calls all of this under its lock; only the expiry timer comes in from the
clock, and takes the lock itself.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable

from vincent_core.transport.memory.arguments import parse_expiration
from vincent_core.transport.memory.clock import Clock
from vincent_core.transport.memory.connection import Connection, Consumer, Unacked
from vincent_core.transport.memory.deadletter import DeathReason, dead_letter, is_cycle
from vincent_core.transport.memory.queue import MemoryQueue, StoredMessage
from vincent_core.transport.memory.topology import Topology
from vincent_core.wire.envelope import Envelope

__all__ = ["Flow", "copy_envelope"]


def copy_envelope(envelope: Envelope) -> Envelope:
    """A copy with its own headers, nested tables included: every queue and every
    consumer gets one, so none sees another's changes."""
    return envelope.with_changes(headers=copy.deepcopy(envelope.headers))


class Flow:
    """The message path over a :class:`.Topology`, timed by a :class:`.Clock`."""

    def __init__(
        self,
        topology: Topology,
        clock: Clock,
        lock: threading.RLock,
        on_due: Callable[[], None] | None = None,
    ) -> None:
        self.topology = topology
        self.clock = clock
        self.lock = lock
        self.ids = itertools.count(1)
        #: told after a timer moved messages on (expired, or back from a retry queue)
        self.on_due = on_due

    def enqueue(self, queue: MemoryQueue, envelope: Envelope) -> None:
        """A message enters ``queue``: its TTL starts now."""
        now = self.clock.now()
        expires = queue.expiry(now, parse_expiration(envelope.expiration))
        message = StoredMessage(envelope, now, expires)
        if expires is not None and expires <= now:
            # A zero TTL means "now or never": delivered if a consumer can take it at
            # once, expired otherwise.
            consumer = queue.next_consumer() if not queue.ready else None
            if consumer is None:
                self.dead_letter(queue, message, "expired")
            elif not self.hand_over(queue, consumer, message):
                self.dispatch(queue)  # it is back at the head, expired: let it go
            return
        queue.ready.append(message)
        for dropped in queue.take_overflow():
            self.dead_letter(queue, dropped, "maxlen")
        self.dispatch(queue)

    def dead_letter(self, queue: MemoryQueue, message: StoredMessage, reason: DeathReason) -> None:
        """Re-route a message through the queue's dead-letter exchange, or drop it."""
        exchange = queue.arguments.dead_letter_exchange
        if exchange is None or not self.topology.has_exchange(exchange):
            return  # no dead-letter exchange, or a missing one: RabbitMQ drops the message
        dead = dead_letter(
            message.envelope,
            queue=queue.name,
            reason=reason,
            exchange=exchange,
            routing_key=queue.arguments.dead_letter_routing_key,
        )
        for target in self.topology.route(exchange, dead.routing_key):
            if not is_cycle(dead, target.name):
                self.enqueue(target, copy_envelope(dead))

    def remove_consumer(self, consumer: Consumer) -> None:
        queue = consumer.queue
        queue.remove_consumer(consumer)
        if consumer in consumer.connection.consumers:
            consumer.connection.consumers.remove(consumer)
        if queue.spec.auto_delete and not queue.consumers and not queue.deleted:
            self.topology.delete(queue)

    def settle(self, unacked: Unacked) -> bool:
        # Settling twice, or after the connection closed (its messages went back), is a
        # no-op: the delivery is no longer this consumer's.
        if unacked.settled:
            return False
        unacked.settled = True
        unacked.connection.unacked.pop(unacked.tag, None)
        if unacked.consumer is not None:
            unacked.consumer.unacked -= 1
        return True

    def requeue(self, queue: MemoryQueue, messages: list[StoredMessage]) -> None:
        """Put returned messages back at the head, in their order, marked redelivered; a
        quorum queue dead-letters those returned more than ``x-delivery-limit`` times."""
        limit = queue.arguments.delivery_limit
        for message in reversed(messages):
            message.redelivered = True
            message.returns += 1
            if limit is not None and message.returns > limit:
                self.dead_letter(queue, message, "delivery_limit")
            else:
                queue.ready.appendleft(message)

    def unacked(
        self,
        queue: MemoryQueue,
        connection: Connection,
        consumer: Consumer | None,
        message: StoredMessage,
    ) -> Unacked:
        envelope = copy_envelope(message.envelope)
        if queue.arguments.queue_type == "quorum" and message.returns:
            envelope.headers["x-delivery-count"] = message.returns
        return Unacked(next(self.ids), message, queue, connection, consumer, envelope)

    def hand_over(self, queue: MemoryQueue, consumer: Consumer, message: StoredMessage) -> bool:
        unacked = self.unacked(queue, consumer.connection, consumer, message)
        consumer.unacked += 1
        consumer.connection.unacked[unacked.tag] = unacked
        if consumer.deliver(unacked):
            return True
        # The consumer's event loop is gone: the consumer goes, the message stays.
        self.settle(unacked)
        consumer.active = False
        self.remove_consumer(consumer)
        if not queue.deleted:
            queue.ready.appendleft(message)
        return False

    def dispatch(self, queue: MemoryQueue) -> None:
        """Expire what is due at the head, then deliver while consumers have room."""
        self.expire(queue)
        while queue.ready and not queue.deleted:
            consumer = queue.next_consumer()
            if consumer is None:
                break
            self.hand_over(queue, consumer, queue.ready.popleft())
        self.arm(queue)

    # -- expiry ----------------------------------------------------------------------

    def expire(self, queue: MemoryQueue) -> None:
        for message in queue.take_expired(self.clock.now()):
            self.dead_letter(queue, message, "expired")

    def arm(self, queue: MemoryQueue) -> None:
        queue.arm(self.clock, self._on_due)

    def _on_due(self, queue: MemoryQueue) -> None:
        # Called from the clock: a loop callback, or VirtualClock.advance in any thread.
        with self.lock:
            if not queue.deleted:
                self.dispatch(queue)
                if self.on_due is not None:
                    self.on_due()
