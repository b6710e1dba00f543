"""Taps: watch traffic without taking it from workers, or drain a real queue."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from vincent_core.transport.base import Delivery, QueueSpec, Subscription
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.routing import check_key

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["Tap", "tap_queue_name"]


def tap_queue_name() -> str:
    """A unique name for a tap's private queue, so it is recognisable in listings."""
    return f"vincent.tap.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


class Tap:
    """An async iterator of the envelopes a tap receives.

    ::

        async with client.listen("file.*", "audit.#") as tap:
            async for envelope in tap:
                print(envelope.routing_key)

    With patterns, the tap owns an exclusive, auto-delete queue bound to the exchange:
    it sees a copy of every matching message and workers still get theirs. With
    ``queue=``, it consumes that queue and acks each message once :meth:`ack` is called
    or the next one is asked for (or the tap closes normally). Leaving the ``async with``
    block with an exception puts the message handed out last back in its queue: a
    message that could not be dealt with is never lost.
    """

    def __init__(
        self,
        client: Client,
        patterns: Sequence[str],
        *,
        queue: str | None = None,
        prefetch: int = 100,
    ) -> None:
        if not patterns and not queue:
            raise ValueError("listen needs at least one pattern or a queue")
        for pattern in patterns:
            check_key(pattern, pattern=True)
        self.client = client
        self.patterns = tuple(patterns)
        self.queue = queue
        self.prefetch = prefetch
        self._inbox: asyncio.Queue[Delivery] = asyncio.Queue()
        self._subscription: Subscription | None = None
        self._unsettled: Delivery | None = None
        self._own_queue: str | None = None

    async def start(self) -> Tap:
        """Declare, bind and start consuming."""
        await self.client.connect()
        transport = self.client.transport
        if self.queue is not None:
            name = self.queue
        else:
            name = tap_queue_name()
            await transport.declare_queue(
                QueueSpec(name, durable=False, exclusive=True, auto_delete=True)
            )
            for pattern in self.patterns:
                await transport.bind(name, self.client.exchange, pattern)
            self._own_queue = name
        self._subscription = await transport.consume(
            name, self._receive, prefetch=self.prefetch, exclusive=False
        )
        return self

    async def _receive(self, delivery: Delivery) -> None:
        await self._inbox.put(delivery)

    async def stop(self, *, requeue_last: bool = False) -> None:
        """Stop consuming; the last message handed out is acked (put back in its queue
        with ``requeue_last``), the ones not handed out go back."""
        # Settle the message handed out last before cancelling: cancelling may close the
        # consumer's channel, after which an ack is impossible.
        if requeue_last and self._unsettled is not None:
            delivery, self._unsettled = self._unsettled, None
            await delivery.reject(requeue=True)
        await self._settle()
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
        while not self._inbox.empty():
            await self._inbox.get_nowait().reject(requeue=True)
        if self._own_queue is not None:
            await self.client.transport.delete_queue(self._own_queue)
            self._own_queue = None

    async def _settle(self) -> None:
        if self._unsettled is not None:
            delivery, self._unsettled = self._unsettled, None
            await delivery.ack()

    async def ack(self) -> None:
        """Done with the message handed out last: with ``queue=``, ack it now (a tap's
        own copies are acked as they are handed out)."""
        await self._settle()

    async def next(self, timeout: float | None = None) -> Envelope | None:
        """The next envelope, or ``None`` when ``timeout`` seconds pass without one."""
        await self._settle()
        try:
            delivery = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            return None
        if self._own_queue is not None:
            # A copy in a private queue: nothing is lost by acking at once.
            await delivery.ack()
        else:
            self._unsettled = delivery
        return delivery.envelope

    def __aiter__(self) -> Tap:
        return self

    async def __anext__(self) -> Envelope:
        envelope = await self.next()
        if envelope is None:  # pragma: no cover - next() without timeout always returns
            raise StopAsyncIteration
        return envelope

    async def __aenter__(self) -> Tap:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop(requeue_last=exc is not None)
