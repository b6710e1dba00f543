"""Consumers and settlement, on the consuming link.

One channel per consumer, so that each has its own prefetch window; acks and rejects
are queued in the link's outbox (one write per loop iteration) through the channel's
:class:`~vincent_core.transport.acks.Settlements`. The consuming connection never
publishes, so a resource alarm never blocks it: acks keep flowing while the publishing
connection waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.channel import Channel
from vincent_core.transport.amqp.connection import Connection
from vincent_core.transport.amqp.exceptions import AMQPError
from vincent_core.transport.amqp.machine import Message
from vincent_core.transport.amqp.properties import envelope_of
from vincent_core.transport.amqp.translate import closing_cause
from vincent_core.transport.base import Delivery, DeliveryHandler, Subscription
from vincent_core.transport.frames import ack_frame, reject_frame

__all__ = ["AmqpDelivery", "Consumer"]

log = logging.getLogger("vincent.transport")


class AmqpDelivery(Delivery):
    """A message received on a channel of the consuming connection."""

    __slots__ = ("_channel", "_settlements", "_tag")

    def __init__(
        self,
        message: Message,
        channel: Channel,
        settlements: Settlements | None = None,
    ) -> None:
        super().__init__(envelope_of(message), message.redelivered)
        self._channel = channel
        self._tag = message.delivery_tag
        self._settlements = settlements

    # Both only queue the frame (sent at the end of this loop iteration, with the other
    # acks of it): nothing here needs to wait for the socket. After a reconnect the old
    # channel is gone and the broker has already requeued the message: there is nothing
    # left to settle, and the outbox drops it.
    async def ack(self) -> None:
        channel, settlements = self._channel, self._settlements
        if settlements is None:
            channel.write(ack_frame(channel.number, self._tag))
        elif settlements.ack(self._tag):
            channel.write(settlements)

    async def reject(self, requeue: bool) -> None:
        self.reject_now(requeue)

    def reject_now(self, requeue: bool) -> None:
        """:meth:`reject`, from code that cannot await."""
        channel, settlements = self._channel, self._settlements
        if settlements is None:
            channel.write(reject_frame(channel.number, self._tag, requeue=requeue))
        elif settlements.reject(self._tag, requeue):
            channel.write(settlements)


@dataclass(eq=False)
class _Lease:
    """One channel a consumer receives on, and its deliveries not yet settled."""

    channel: Channel
    busy: int = 0
    retired: bool = False
    #: the handler tasks running on this channel (held: the loop keeps weak references)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass(eq=False)
class Consumer(Subscription):
    """A consumer that starts again on a new channel whenever the broker ends it."""

    queue: str
    handler: DeliveryHandler
    prefetch: int
    exclusive: bool
    #: ``(consumer, connection, reason)``: the broker ended it; consume again
    restart: Callable[[Consumer, Connection, str], None]
    forget: Callable[[Consumer], None]
    spawn: Callable[[Coroutine[Any, Any, Any]], None]
    #: bound for the cancel and the flush before it (seconds)
    timeout: float = 10.0
    lease: _Lease | None = None
    tag: str = ""
    cancelled: bool = False

    async def start(self, connection: Connection) -> None:
        """Open a channel and consume on it."""
        channel = await connection.channel()
        lease = self.lease = _Lease(channel)
        await channel.basic_qos(prefetch_count=self.prefetch)
        settlements = Settlements(channel.number)
        loop = connection.loop

        async def handle(delivery: AmqpDelivery) -> None:
            try:
                await self.handler(delivery)
            finally:
                lease.busy -= 1
                if (self.cancelled or lease.retired) and lease.busy == 0:
                    await self._close_channel(lease)

        def on_message(message: Message) -> None:
            delivery = AmqpDelivery(message, channel, settlements)
            if self.cancelled:
                # Sent before the broker saw our basic.cancel: hand it back unhandled.
                # Running it now could race the channel's close and leave its work
                # done but unacked, to be done again elsewhere.
                delivery.reject_now(requeue=True)
                return
            lease.busy += 1
            task = loop.create_task(handle(delivery))
            lease.tasks.add(task)
            task.add_done_callback(lease.tasks.discard)

        self.tag = await channel.basic_consume(self.queue, on_message, exclusive=self.exclusive)
        if self.cancelled:  # while it started (consuming again): stop this one too
            await self.cancel()
            return
        # The broker may end this consumer while the connection lives on: it closes the
        # channel (consumer_timeout, a refused ack) or cancels the consumer (its queue
        # was deleted, or its node went down). Either way, consume again.
        channel.on_cancel.append(
            lambda _tag: self._lost(lease, connection, "cancelled by the broker")
        )
        channel.closing.add_done_callback(
            lambda closing: self._lost(
                lease, connection, f"lost its channel ({closing_cause(closing)})"
            )
        )

    def _lost(self, lease: _Lease, connection: Connection, reason: str) -> None:
        if lease.retired or self.cancelled or lease is not self.lease:
            return
        lease.retired = True
        if lease.busy == 0:
            self.spawn(self._close_channel(lease))
        self.restart(self, connection, reason)

    async def cancel(self) -> None:
        """Stop consuming; bounded by ``timeout`` even when the broker does not answer
        (the channel then closes with the connection, and the broker requeues)."""
        self.cancelled = True
        self.forget(self)
        lease = self.lease
        if lease is None or lease.channel.is_closed:
            return
        # The cancel follows the acks already written, in the connection's outbox.
        with contextlib.suppress(AMQPError, TimeoutError):
            async with asyncio.timeout(self.timeout):
                await lease.channel.basic_cancel(self.tag)
        if lease.busy == 0:
            await self._close_channel(lease, self.timeout)

    @staticmethod
    async def _close_channel(lease: _Lease, timeout: float = 10.0) -> None:
        # Deliveries still being handled need the channel to be acked on; the last one
        # to finish closes it (prefetched, unstarted ones then return to the queue).
        # Its acks are written before the close and reach the broker first.
        channel = lease.channel
        if not channel.is_open or lease.busy:
            return
        with contextlib.suppress(AMQPError, TimeoutError):
            async with asyncio.timeout(timeout):
                await channel.close()
