"""The in-process broker's API: connections, declarations, publish and consume, each
behind one lock; :mod:`.topology` keeps what is declared, :mod:`.flow` moves messages.

Every method is synchronous and takes one re-entrant lock, so one broker serves every
event loop and thread of a process (an app on the main loop, a ``SyncClient`` on its own
thread). Deliveries and replies leave through callbacks the transport supplies, which
hand them to the right loop; nothing here awaits.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import deque
from collections.abc import Callable

from vincent_core.errors import ConfigurationError, NoRoute, PublishFailed
from vincent_core.transport.base import DIRECT_REPLY_TO, QueueInfo, QueueSpec
from vincent_core.transport.memory.activity import Activity, Watcher, Watchers
from vincent_core.transport.memory.arguments import parse_expiration
from vincent_core.transport.memory.clock import Clock, SystemClock
from vincent_core.transport.memory.connection import Connection, Consumer, Unacked
from vincent_core.transport.memory.fieldtable import transmitted
from vincent_core.transport.memory.flow import Flow, copy_envelope
from vincent_core.transport.memory.queue import MemoryQueue, StoredMessage
from vincent_core.transport.memory.topology import Topology
from vincent_core.wire.envelope import Envelope

__all__ = ["MemoryBroker"]

_REPLY_PREFIX = f"{DIRECT_REPLY_TO}."


class MemoryBroker:
    """An AMQP 0-9-1 broker inside the process, with RabbitMQ's semantics for what
    vincent uses. ``memory://`` URLs reach the one :func:`get_broker` returns.

    ::

        broker = get_broker(clock=VirtualClock())
        ...                                     # run an app and a client on memory://
        broker.queue_messages("file.encrypt")   # peek without consuming
        exchange, envelope = broker.published[-1]

    ``published`` logs the last ``published_limit`` publishes (0 turns it off).
    """

    def __init__(
        self, clock: Clock | None = None, *, name: str = "", published_limit: int = 1000
    ) -> None:
        self.name = name
        self.published: deque[tuple[str, Envelope]] = deque(maxlen=published_limit)
        self._lock = threading.RLock()
        self._watchers = Watchers()
        self._topology = Topology()
        self._flow = Flow(
            self._topology,
            clock or SystemClock(),
            self._lock,
            on_due=lambda: self._watchers.notify(Activity("expire")),
        )
        self._connections: dict[int, Connection] = {}
        self._replies: dict[str, Connection] = {}
        self._ids = itertools.count(1)

    # -- clock -----------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The clock TTLs are measured on."""
        return self._flow.clock

    def use_clock(self, clock: Clock) -> None:
        """Measure TTLs on ``clock`` from now on; pending expiries keep their time left."""
        with self._lock:
            shift = clock.now() - self._flow.clock.now()
            messages = [m for q in self._topology.queues.values() for m in q.ready]
            messages += [u.message for c in self._connections.values() for u in c.unacked.values()]
            for message in messages:
                message.shift(shift)
            for queue in self._topology.queues.values():
                queue.cancel_timer()
            self._flow.clock = clock
            for queue in list(self._topology.queues.values()):
                self._flow.dispatch(queue)

    def shutdown(self) -> None:
        """Cancel every timer: the broker is being thrown away."""
        with self._lock:
            for queue in self._topology.queues.values():
                queue.cancel_timer()

    # -- connections -----------------------------------------------------------------

    def open_connection(self, on_reply: Callable[[Envelope], None]) -> Connection:
        """A new connection; ``on_reply`` receives its direct reply-to messages."""
        with self._lock:
            connection = Connection(next(self._ids), on_reply)
            self._connections[connection.id] = connection
            return connection

    def close_connection(self, connection: Connection) -> None:
        """What RabbitMQ does when a connection closes: unacked deliveries go back to
        the head of their queues (redelivered, in their order), consumers go (auto-delete
        queues with them), exclusive queues are deleted."""
        with self._lock:
            if not connection.open:
                return
            connection.open = False
            self._connections.pop(connection.id, None)
            if connection.reply_token is not None:
                self._replies.pop(connection.reply_token, None)
            for consumer in connection.consumers:
                consumer.active = False
            returned: dict[int, tuple[MemoryQueue, list[StoredMessage]]] = {}
            for tag in sorted(connection.unacked):
                unacked = connection.unacked[tag]
                unacked.settled = True
                returned.setdefault(id(unacked.queue), (unacked.queue, []))[1].append(
                    unacked.message
                )
            connection.unacked.clear()
            for queue, messages in returned.values():
                if not queue.deleted:
                    self._flow.requeue(queue, messages)
            for consumer in list(connection.consumers):
                self._flow.remove_consumer(consumer)
            for queue in list(self._topology.queues.values()):
                if queue.owner is connection:
                    self._topology.delete(queue)
            for queue, _ in returned.values():
                if not queue.deleted:
                    self._flow.dispatch(queue)
            self._watchers.notify(Activity("close"))

    def start_replies(self, connection: Connection) -> str:
        """The connection's direct reply-to address (the same for every call)."""
        with self._lock:
            if connection.reply_token is None:
                connection.reply_token = uuid.uuid4().hex
                self._replies[connection.reply_token] = connection
            return _REPLY_PREFIX + connection.reply_token

    # -- topology --------------------------------------------------------------------

    def declare_exchange(self, name: str) -> None:
        """Declare a durable topic exchange (redeclaring is a no-op)."""
        with self._lock:
            self._topology.declare_exchange(name)

    def declare_queue(self, connection: Connection, spec: QueueSpec) -> QueueInfo:
        """Declare a queue, or check that ``spec`` matches the one that exists."""
        with self._lock:
            queue = self._topology.declare_queue(connection, spec)
            self._flow.dispatch(queue)
            return queue.info()

    def inspect_queue(self, connection: Connection, name: str) -> QueueInfo | None:
        """A passive declare: depth and consumers, or None when there is no such queue."""
        with self._lock:
            if name not in self._topology.queues:
                return None
            queue = self._topology.queue(name, f"inspect queue {name!r}", connection)
            self._flow.dispatch(queue)
            return queue.info()

    def delete_queue(self, connection: Connection, name: str) -> None:
        """Delete a queue, its messages and bindings (missing is fine)."""
        with self._lock:
            if name in self._topology.queues:
                self._topology.delete(self._topology.queue(name, f"delete {name!r}", connection))

    def purge_queue(self, connection: Connection, name: str) -> int:
        """Drop the ready messages (not the unacked ones); returns how many."""
        with self._lock:
            queue = self._topology.queue(name, f"purge queue {name!r}", connection)
            count = len(queue.ready)
            queue.ready.clear()
            self._flow.arm(queue)
            self._watchers.notify(Activity("purge"))
            return count

    def bind(self, connection: Connection, queue: str, exchange: str, pattern: str) -> None:
        """Bind ``queue`` to the topic ``exchange`` with ``pattern`` (idempotent)."""
        with self._lock:
            self._topology.bind(connection, queue, exchange, pattern)

    def unbind(self, connection: Connection, queue: str, exchange: str, pattern: str) -> None:
        """Remove a binding (a missing binding is fine, a missing queue is not)."""
        with self._lock:
            self._topology.unbind(connection, queue, exchange, pattern)

    # -- publishing ------------------------------------------------------------------

    def publish(self, connection: Connection, envelope: Envelope, *, mandatory: bool) -> None:
        """Route a message to every matching queue (a copy each), or to a reply address.

        Raises ``ConfigurationError`` for what RabbitMQ refuses by closing the channel
        (no such exchange, a bad ``expiration``, direct reply-to without its consumer), as
        the AMQP transport translates it; ``NoRoute`` (``mandatory`` and no queue
        matched); ``PublishFailed`` (a full queue with ``x-overflow: reject-publish``
        refused it: RabbitMQ's nack; the other queues still get their copy);
        ``EncodeError`` (headers that AMQP cannot carry).
        """
        exchange, key = envelope.exchange, envelope.routing_key
        # Encode outside the lock: what consumers see is what the wire would deliver.
        message = transmitted(envelope)
        with self._lock:
            if not self._topology.has_exchange(exchange):
                raise ConfigurationError(
                    f"publish to {key!r}: NOT_FOUND - no exchange {exchange!r}"
                )
            try:
                parse_expiration(envelope.expiration)
            except ValueError as exc:
                raise ConfigurationError(
                    f"publish to {key!r}: PRECONDITION_FAILED - {exc}"
                ) from None
            if envelope.reply_to == DIRECT_REPLY_TO:
                # RabbitMQ rewrites the pseudo-queue's name to this connection's address.
                if connection.reply_token is None:
                    raise ConfigurationError(
                        f"publish to {key!r}: PRECONDITION_FAILED - "
                        "fast reply consumer does not exist"
                    )
                message.reply_to = _REPLY_PREFIX + connection.reply_token
            if self.published.maxlen != 0:
                self.published.append((exchange, copy_envelope(message)))
            if not exchange and key.startswith(_REPLY_PREFIX):
                owner = self._replies.get(key[len(_REPLY_PREFIX) :])
                # An unknown or closed address: dropped, never returned, as RabbitMQ does.
                routed = owner is not None and owner.open
                self._published(exchange, message, routed)
                if owner is not None and routed:
                    owner.on_reply(message)
                return
            queues = self._topology.route(exchange, key)
            self._published(exchange, message, bool(queues), tuple(q.spec.name for q in queues))
            if not queues and mandatory:
                raise NoRoute(key, exchange=exchange)
            refused = [queue.name for queue in queues if queue.refuses_more()]
            for queue in queues:
                if queue.name not in refused:
                    self._flow.enqueue(queue, copy_envelope(message))
            if refused:
                raise PublishFailed(
                    f"the broker refused the message to {key!r}: {', '.join(refused)} is full"
                )

    def _published(
        self, exchange: str, message: Envelope, routed: bool, queues: tuple[str, ...] = ()
    ) -> None:
        activity = Activity("publish", exchange, copy_envelope(message), routed, queues)
        self._watchers.notify(activity)

    # -- consuming -------------------------------------------------------------------

    def consume(
        self,
        connection: Connection,
        name: str,
        deliver: Callable[[Unacked], bool],
        *,
        prefetch: int,
        exclusive: bool = False,
        cancelled: Callable[[], None] | None = None,
    ) -> Consumer:
        """Add a consumer; ``deliver`` is called (under the broker's lock) per delivery,
        ``cancelled`` (under the lock too) if the broker ends it (its queue is deleted)."""
        with self._lock:
            what = f"consume {name!r}"
            if prefetch < 0:
                raise ConfigurationError(f"{what}: prefetch must be 0 or more, not {prefetch}")
            queue = self._topology.queue(name, what, connection)
            if queue.has_exclusive_consumer() or (exclusive and queue.consumers):
                raise ConfigurationError(
                    f"{what}: ACCESS_REFUSED - queue {name!r} in exclusive use"
                )
            tag = f"ctag-{connection.id}.{next(self._ids)}"
            consumer = Consumer(tag, queue, connection, prefetch, exclusive, deliver, cancelled)
            queue.add_consumer(consumer)
            connection.consumers.append(consumer)
            self._flow.dispatch(queue)
            self._watchers.notify(Activity("consume"))
            return consumer

    def cancel(self, consumer: Consumer) -> None:
        """Stop a consumer; its unacked deliveries stay settleable."""
        with self._lock:
            if consumer.active:
                consumer.active = False
                self._flow.remove_consumer(consumer)
                self._watchers.notify(Activity("cancel"))

    def get(self, connection: Connection, name: str) -> Unacked | None:
        """``basic.get``: the head message as an unsettled delivery, or None."""
        with self._lock:
            queue = self._topology.queue(name, f"get from {name!r}", connection)
            self._flow.expire(queue)
            message = queue.ready.popleft() if queue.ready else None
            self._flow.arm(queue)
            if message is None:
                return None
            unacked = self._flow.unacked(queue, connection, None, message)
            connection.unacked[unacked.tag] = unacked
            return unacked

    def ack(self, unacked: Unacked) -> None:
        """The consumer is done with it."""
        with self._lock:
            if self._flow.settle(unacked) and not unacked.queue.deleted:
                self._flow.dispatch(unacked.queue)
            self._watchers.notify(Activity("ack"))

    def reject(self, unacked: Unacked, requeue: bool) -> None:
        """Back to the head of its queue (``requeue``), or dead-lettered / dropped."""
        with self._lock:
            queue = unacked.queue
            if not self._flow.settle(unacked) or queue.deleted:
                return
            if requeue:
                self._flow.requeue(queue, [unacked.message])
            else:
                self._flow.dead_letter(queue, unacked.message, "rejected")
            self._flow.dispatch(queue)
            self._watchers.notify(Activity("reject"))

    # -- introspection ---------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher(activity)`` on every publish, settle, expiry and consumer
        change, under the broker's lock and on the thread that made it (so: only take
        note and hand over). Returns the function that stops watching."""
        return self._watchers.add(watcher)

    def work_pending(self) -> int:
        """Deliveries not settled yet, plus ready messages in queues that have a
        consumer: zero when every consumer is idle. Messages waiting in a queue nobody
        consumes (a paused listener's, a retry queue's, the dead letters) do not count."""
        with self._lock:
            unsettled = sum(len(c.unacked) for c in self._connections.values())
            waiting = sum(
                len(queue.ready) for queue in self._topology.queues.values() if queue.consumers
            )
            return unsettled + waiting

    def queue_messages(self, name: str) -> list[Envelope]:
        """Copies of a queue's ready messages, head first, without consuming them."""
        with self._lock:
            queue = self._topology.queues.get(name)
            if queue is None:
                raise ConfigurationError(f"peek at {name!r}: NOT_FOUND - no queue {name!r}")
            self._flow.dispatch(queue)
            return [copy_envelope(message.envelope) for message in queue.ready]

    def queue_names(self) -> list[str]:
        """Every queue, sorted."""
        with self._lock:
            return sorted(self._topology.queues)

    def exchange_names(self) -> list[str]:
        """Every exchange (``amq.topic`` is always there), sorted."""
        with self._lock:
            return sorted(self._topology.exchanges)

    def bindings(self, exchange: str) -> list[tuple[str, str]]:
        """``(queue, pattern)`` pairs bound to ``exchange``, in binding order."""
        with self._lock:
            return self._topology.bindings(exchange)
