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
from dataclasses import dataclass
from typing import Any

import aiormq

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.outbox import Outbox
from vincent_core.transport.amqp.properties import to_envelope
from vincent_core.transport.amqp.seam import (
    AbstractChannel,
    AbstractConnection,
    DeliveredMessage,
    channel_open,
)
from vincent_core.transport.amqp.translate import closing_cause
from vincent_core.transport.base import Delivery, DeliveryHandler, Subscription
from vincent_core.transport.frames import ack_frame, reject_frame

__all__ = ["AmqpDelivery", "Consumer", "envelope_of"]

log = logging.getLogger("vincent.transport")


def envelope_of(message: DeliveredMessage) -> Any:
    """The Envelope of a delivered (or got) message."""
    return to_envelope(
        message.header.properties,
        message.body,
        exchange=message.exchange,
        routing_key=message.routing_key,
    )


class AmqpDelivery(Delivery):
    """A message received on a channel of the consuming connection."""

    __slots__ = ("_channel", "_outbox", "_settlements", "_tag")

    def __init__(
        self,
        message: DeliveredMessage,
        channel: AbstractChannel,
        outbox: Outbox,
        settlements: Settlements | None = None,
    ) -> None:
        super().__init__(envelope_of(message), bool(message.redelivered))
        self._channel = channel
        self._tag = message.delivery_tag or 0
        self._outbox = outbox
        self._settlements = settlements

    # Both only queue the frame (sent at the end of this loop iteration, with the other
    # acks of it): nothing here needs to wait for the socket. After a reconnect the old
    # channel is gone and the broker has already requeued the message: there is nothing
    # left to settle, and the outbox drops it.
    async def ack(self) -> None:
        channel, settlements = self._channel, self._settlements
        if settlements is None:
            self._outbox.write(channel, ack_frame(channel.number, self._tag))
        elif settlements.ack(self._tag):
            self._outbox.write(channel, settlements)

    async def reject(self, requeue: bool) -> None:
        channel, settlements = self._channel, self._settlements
        if settlements is None:
            self._outbox.write(channel, reject_frame(channel.number, self._tag, requeue=requeue))
        elif settlements.reject(self._tag, requeue):
            self._outbox.write(channel, settlements)


@dataclass(eq=False)
class _Lease:
    """One channel a consumer receives on, and its deliveries not yet settled."""

    channel: AbstractChannel
    busy: int = 0
    retired: bool = False


@dataclass(eq=False)
class Consumer(Subscription):
    """A consumer that starts again on a new channel whenever the broker ends it."""

    queue: str
    handler: DeliveryHandler
    prefetch: int
    exclusive: bool
    #: ``(consumer, connection, reason)``: the broker ended it; consume again
    restart: Callable[[Consumer, AbstractConnection, str], None]
    forget: Callable[[Consumer], None]
    spawn: Callable[[Coroutine[Any, Any, Any]], None]
    #: bound for the cancel and the flush before it (seconds)
    timeout: float = 10.0
    lease: _Lease | None = None
    outbox: Outbox | None = None
    tag: str = ""
    cancelled: bool = False

    async def start(self, connection: AbstractConnection, outbox: Outbox) -> None:
        """Open a channel and consume on it."""
        channel = await connection.channel()
        lease = self.lease = _Lease(channel)
        self.outbox = outbox
        await channel.basic_qos(prefetch_count=self.prefetch)
        settlements = Settlements(channel.number)

        async def on_message(message: DeliveredMessage) -> None:
            delivery = AmqpDelivery(message, channel, outbox, settlements)
            if self.cancelled:
                # Sent before the broker saw our basic.cancel: hand it back unhandled.
                # Running it now could race the channel's close and leave its work
                # done but unacked, to be done again elsewhere.
                await delivery.reject(requeue=True)
                return
            lease.busy += 1
            try:
                await self.handler(delivery)
            finally:
                lease.busy -= 1
                if (self.cancelled or lease.retired) and lease.busy == 0:
                    await self._close_channel(lease, outbox)

        ok = await channel.basic_consume(self.queue, on_message, exclusive=self.exclusive)
        self.tag = ok.consumer_tag or ""
        if self.cancelled:  # while it started (consuming again): stop this one too
            await self.cancel()
            return
        # The broker may end this consumer while the connection lives on: it closes the
        # channel (consumer_timeout, a refused ack) or cancels the consumer (its queue
        # was deleted, or its node went down). Either way, consume again.
        channel.on_consumer_cancel_callbacks.add(
            lambda _tag: self._lost(lease, connection, "cancelled by the broker")
        )
        channel.closing.add_done_callback(
            lambda closing: self._lost(
                lease, connection, f"lost its channel ({closing_cause(closing)})"
            )
        )

    def _lost(self, lease: _Lease, connection: AbstractConnection, reason: str) -> None:
        if lease.retired or self.cancelled or lease is not self.lease:
            return
        lease.retired = True
        if lease.busy == 0 and self.outbox is not None:
            self.spawn(self._close_channel(lease, self.outbox))
        self.restart(self, connection, reason)

    async def cancel(self) -> None:
        """Stop consuming; bounded by ``timeout`` even when the broker does not answer
        (the channel then closes with the connection, and the broker requeues)."""
        self.cancelled = True
        self.forget(self)
        lease, outbox = self.lease, self.outbox
        if lease is None or outbox is None or lease.channel.is_closed:
            return
        with contextlib.suppress(aiormq.exceptions.AMQPError, ConnectionError, TimeoutError):
            async with asyncio.timeout(self.timeout):
                await outbox.flush()
                await lease.channel.basic_cancel(self.tag)
        if lease.busy == 0:
            await self._close_channel(lease, outbox, self.timeout)

    @staticmethod
    async def _close_channel(lease: _Lease, outbox: Outbox, timeout: float = 10.0) -> None:
        # Deliveries still being handled need the channel to be acked on; the last one
        # to finish closes it (prefetched, unstarted ones then return to the queue).
        # Its acks must reach the broker before the close, or they become redeliveries.
        channel = lease.channel
        if not channel_open(channel):
            return
        with contextlib.suppress(aiormq.exceptions.AMQPError, ConnectionError, TimeoutError):
            async with asyncio.timeout(timeout):
                await outbox.flush(written=True)
                # A delivery that arrived before the cancel-ok may have started its
                # handler during that wait: closing now would cancel it after it did
                # its work and before its ack. It closes the channel when it is done.
                if lease.busy == 0:
                    await channel.close()
