"""The :class:`~vincent_core.transport.base.Transport` over the in-process broker.

The broker is synchronous and shared by every loop and thread of the process; this side
belongs to one event loop (the one it connected on) and brings deliveries and replies
onto it with ``call_soon_threadsafe``, so handlers always run on their own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from vincent_core.config import mask_url
from vincent_core.errors import ConnectionLost, VincentError
from vincent_core.transport.base import (
    Delivery,
    DeliveryHandler,
    QueueInfo,
    QueueSpec,
    ReplyHandler,
    Subscription,
    Transport,
)
from vincent_core.transport.memory.broker import MemoryBroker
from vincent_core.transport.memory.connection import Connection, Consumer, Unacked
from vincent_core.transport.memory.registry import broker_name, get_broker
from vincent_core.wire.envelope import Envelope

__all__ = ["MemoryTransport"]

log = logging.getLogger("vincent.transport")


class _MemoryDelivery(Delivery):
    __slots__ = ("_broker", "unacked")

    def __init__(self, broker: MemoryBroker, unacked: Unacked) -> None:
        super().__init__(unacked.envelope, unacked.message.redelivered)
        self._broker = broker
        self.unacked = unacked

    async def ack(self) -> None:
        self._broker.ack(self.unacked)

    async def reject(self, requeue: bool) -> None:
        self._broker.reject(self.unacked, requeue)


class _MemorySubscription(Subscription):
    def __init__(self, broker: MemoryBroker, queue: str) -> None:
        self._broker = broker
        self.queue = queue
        self.consumer: Consumer | None = None
        self.cancelled = False

    async def cancel(self) -> None:
        self.cancelled = True
        if self.consumer is not None:
            self._broker.cancel(self.consumer)


class MemoryTransport(Transport):
    """A connection to the in-process broker a ``memory://`` URL names.

    ::

        transport = MemoryTransport("memory://")
        await transport.connect()
        await transport.declare_queue(QueueSpec("jobs"))
        await transport.publish(Envelope("", "jobs", b"{}"))
        delivery = await transport.get("jobs")

    Publishing is confirmed at once; deliveries and replies arrive asynchronously, on
    the event loop this transport connected on. Closing it requeues its unacked
    deliveries and deletes its exclusive queues, as a closed RabbitMQ connection does.
    """

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.broker_name = broker_name(url)
        self.unclaimed_replies = 0
        super().__init__()
        self._broker: MemoryBroker | None = None
        self._connection: Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # What this connection declared and bound, declared again for a consumer whose
        # queue is deleted under it (as the AMQP transport does).
        self._queues: dict[str, QueueSpec] = {}
        self._bindings: list[tuple[str, str, str]] = []
        self._subscriptions: list[_MemorySubscription] = []
        # Handler tasks, referenced until done (the loop only keeps weak references).
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def broker(self) -> MemoryBroker:
        """The broker this transport talks to (the named one, until connected)."""
        return self._broker if self._broker is not None else get_broker(self.broker_name)

    async def connect(self) -> None:
        if self._connection is not None:
            return
        self._set_state("connecting")
        self._loop = asyncio.get_running_loop()
        self._broker = get_broker(self.broker_name)
        self._connection = self._broker.open_connection(self._on_reply)
        self._set_state("connected")

    async def close(self) -> None:
        if self._broker is not None and self._connection is not None:
            self._broker.close_connection(self._connection)
        self._connection = None
        self._set_state("closed")

    def _live(self, what: str) -> tuple[MemoryBroker, Connection]:
        if self._broker is None or self._connection is None or not self._connection.open:
            raise ConnectionLost(f"{what}: the connection to {self.masked_url} is closed")
        return self._broker, self._connection

    # -- topology --------------------------------------------------------------------

    async def declare_exchange(self, name: str) -> None:
        broker, _ = self._live(f"declare exchange {name!r}")
        broker.declare_exchange(name)

    async def declare_queue(self, spec: QueueSpec) -> QueueInfo:
        broker, connection = self._live(f"declare queue {spec.name!r}")
        info = broker.declare_queue(connection, spec)
        self._queues[spec.name] = spec
        return info

    async def inspect_queue(self, name: str) -> QueueInfo | None:
        broker, connection = self._live(f"inspect queue {name!r}")
        return broker.inspect_queue(connection, name)

    async def delete_queue(self, name: str) -> None:
        broker, connection = self._live(f"delete queue {name!r}")
        self._queues.pop(name, None)
        self._bindings = [binding for binding in self._bindings if binding[0] != name]
        for subscription in self._subscriptions:
            if subscription.queue == name:
                # Ended by our own doing: not to be consumed again.
                await subscription.cancel()
        self._subscriptions = [sub for sub in self._subscriptions if not sub.cancelled]
        broker.delete_queue(connection, name)

    async def purge_queue(self, name: str) -> int:
        broker, connection = self._live(f"purge queue {name!r}")
        return broker.purge_queue(connection, name)

    async def bind(self, queue: str, exchange: str, pattern: str) -> None:
        broker, connection = self._live(f"bind {queue!r} to {exchange!r}")
        broker.bind(connection, queue, exchange, pattern)
        if (queue, exchange, pattern) not in self._bindings:
            self._bindings.append((queue, exchange, pattern))

    async def unbind(self, queue: str, exchange: str, pattern: str) -> None:
        broker, connection = self._live(f"unbind {queue!r} from {exchange!r}")
        broker.unbind(connection, queue, exchange, pattern)
        if (queue, exchange, pattern) in self._bindings:
            self._bindings.remove((queue, exchange, pattern))

    # -- messages --------------------------------------------------------------------

    async def publish(
        self,
        envelope: Envelope,
        *,
        mandatory: bool = False,
        timeout: float | None = None,
        answered: asyncio.Future[Any] | None = None,
    ) -> None:
        # The broker has the message once this returns: the confirm needs no waiting
        # (so neither does an ``answered`` request).
        broker, connection = self._live(f"publish to {envelope.routing_key!r}")
        broker.publish(connection, envelope, mandatory=mandatory)

    async def consume(
        self, queue: str, handler: DeliveryHandler, *, prefetch: int, exclusive: bool = False
    ) -> Subscription:
        broker, connection = self._live(f"consume {queue!r}")
        loop = self._loop
        assert loop is not None

        def deliver(unacked: Unacked) -> bool:
            # Runs under the broker's lock, maybe on another thread: only schedule here.
            try:
                loop.call_soon_threadsafe(self._start, handler, _MemoryDelivery(broker, unacked))
            except RuntimeError:  # the loop is closed
                return False
            return True

        subscription = _MemorySubscription(broker, queue)
        self._subscriptions = [sub for sub in self._subscriptions if not sub.cancelled]
        self._subscriptions.append(subscription)

        def start() -> None:
            subscription.consumer = broker.consume(
                connection,
                queue,
                deliver,
                prefetch=prefetch,
                exclusive=exclusive,
                cancelled=cancelled,
            )

        def cancelled() -> None:
            # Under the broker's lock, maybe on another thread: only schedule here.
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(self._consume_again, subscription, queue, start)

        start()
        return subscription

    def _consume_again(
        self, subscription: _MemorySubscription, queue: str, start: Callable[[], None]
    ) -> None:
        if subscription.cancelled or self._connection is None or not self._connection.open:
            return
        log.warning("consumer of %r cancelled by the broker; consuming again", queue)
        broker, connection = self._live(f"consume {queue!r}")
        try:
            queue_spec = self._queues.get(queue)
            if queue_spec is not None:
                broker.declare_queue(connection, queue_spec)
                for name, exchange, pattern in self._bindings:
                    if name == queue:
                        broker.bind(connection, name, exchange, pattern)
            start()
        except VincentError as exc:
            # Nothing here would change by waiting (no other node, no outage).
            log.error("consume %r again failed (%s)", queue, exc)

    def _start(self, handler: DeliveryHandler, delivery: _MemoryDelivery) -> None:
        if delivery.unacked.settled:
            return  # the connection closed before it started: it is back in its queue
        task = asyncio.get_running_loop().create_task(self._handle(handler, delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, handler: DeliveryHandler, delivery: Delivery) -> None:
        try:
            await handler(delivery)
        except Exception:
            # As with a RabbitMQ consumer callback: logged; the delivery stays unsettled
            # until acked, rejected, or its connection closes.
            log.exception("consumer of %r raised", delivery.envelope.routing_key)

    async def get(self, queue: str) -> Delivery | None:
        broker, connection = self._live(f"get from {queue!r}")
        unacked = broker.get(connection, queue)
        return _MemoryDelivery(broker, unacked) if unacked is not None else None

    async def replies(self, handler: ReplyHandler, *, timeout: float | None = None) -> str:
        broker, connection = self._live("start reply consumer")
        self._add_reply_handler(handler)
        return broker.start_replies(connection)

    def _on_reply(self, envelope: Envelope) -> None:
        # Under the broker's lock, maybe on another thread: hand over to our loop.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._deliver_reply, envelope)
            except RuntimeError:  # closed in between
                self.unclaimed_replies += 1
