"""Every message published on the client's exchange, and every reply: the source that
``vincent trace`` and the console's ``tail`` pair into conversations.

On RabbitMQ it is the firehose (``amq.rabbitmq.trace``): a private, exclusive queue bound
to ``publish.<exchange>`` and ``publish.`` (replies go to the default exchange), capped
so that a tracer that falls behind cannot fill the broker. On ``memory://`` it is the
in-process broker's own record of publishes: no broker feature needed.

Is tracing on? :meth:`FirehoseTap.start` publishes a probe to the default exchange with a
routing key no queue has (the broker drops it); tracing is on if the probe's firehose copy
arrives within ``probe_wait`` seconds::

    tap = FirehoseTap(client, on_published)
    if not await tap.start():
        print("tracing is off")
    ...
    await tap.close()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from vincent_core.client import Client
    from vincent_core.transport.base import Delivery, Subscription
    from vincent_core.wire.firehose import Published

__all__ = ["PROBE_WAIT", "QUEUE_MAX_BYTES", "QUEUE_MAX_LENGTH", "FirehoseTap"]

#: how long the probe's firehose copy is waited for before tracing counts as off
PROBE_WAIT = 3.0
#: the tracer's queue holds at most this much when it falls behind (oldest dropped)
QUEUE_MAX_LENGTH = 100_000
QUEUE_MAX_BYTES = 128 * 1024 * 1024
_PREFETCH = 500


class FirehoseTap:
    """Hands every published message of the client's exchange (and every reply) to
    ``on_published``, on the client's loop, in the order the broker saw them."""

    def __init__(self, client: Client, on_published: Callable[[Published], None]) -> None:
        from vincent_core.wire.envelope import new_id

        self.client = client
        self.on_published = on_published
        self._probe_id = new_id()
        self.queue = f"vincent.trace.{self._probe_id[:12]}"
        self._subscription: Subscription | None = None
        self._stop_watching: Callable[[], None] | None = None

    @property
    def started(self) -> bool:
        """Whether messages are being handed over."""
        return self._subscription is not None or self._stop_watching is not None

    async def start(self, *, probe: bool = True, probe_wait: float = PROBE_WAIT) -> bool:
        """Start receiving; ``False`` when tracing is off (nothing will come: the queue
        is gone again). Without ``probe``, trust that it is on."""
        import asyncio
        import sys

        transport = self.client.transport
        # A MemoryTransport means its module is loaded; an AMQP tracer does not load it
        # (what a tracer imports stays in its memory for good: issue 18's bound).
        memory = sys.modules.get("vincent_core.transport.memory")
        if memory is not None and isinstance(transport, memory.MemoryTransport):
            from vincent_core.transport.memory.firehose import watch_published

            loop = asyncio.get_running_loop()
            self._stop_watching = watch_published(transport.broker, loop, self.on_published)
            return True
        seen = asyncio.Event()
        await self._subscribe(seen)
        if not probe:
            return True
        from vincent_core.wire.envelope import Envelope

        message = Envelope("", f"vincent.trace.probe.{self._probe_id}", b"")
        message.message_id = self._probe_id
        await transport.publish(message, timeout=probe_wait)
        try:
            await asyncio.wait_for(seen.wait(), probe_wait)
        except TimeoutError:
            await self.close()
            return False
        return True

    async def _subscribe(self, seen: asyncio.Event) -> None:
        from vincent_core.transport.base import QueueSpec
        from vincent_core.wire.firehose import TRACE_EXCHANGE, firehose_bindings, from_firehose

        probe_id = self._probe_id

        async def receive(delivery: Delivery) -> None:
            # A copy in a private queue: acking at once loses nothing.
            await delivery.ack()
            published = from_firehose(delivery.envelope, at=time.monotonic(), wall=time.time())
            if published is None:
                return
            if published.envelope.message_id == probe_id:
                seen.set()
            else:
                self.on_published(published)

        transport = self.client.transport
        arguments = {"x-max-length": QUEUE_MAX_LENGTH, "x-max-length-bytes": QUEUE_MAX_BYTES}
        spec = QueueSpec(
            self.queue, durable=False, exclusive=True, auto_delete=True, arguments=arguments
        )
        await transport.declare_queue(spec)
        for key in firehose_bindings(self.client.exchange):
            await transport.bind(self.queue, TRACE_EXCHANGE, key)
        self._subscription = await transport.consume(
            self.queue, receive, prefetch=_PREFETCH, exclusive=True
        )

    async def close(self) -> None:
        """Stop receiving and delete the queue (idempotent)."""
        stop, self._stop_watching = self._stop_watching, None
        if stop is not None:
            stop()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.cancel()
            await self.client.transport.delete_queue(self.queue)
