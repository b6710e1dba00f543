"""Setting the stage, untimed: queues, bindings, purges and backlogs, through aiormq."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiormq
from pamqp import commands as spec

from bench.params import body, body_bytes

__all__ = ["Admin", "in_flight"]


async def in_flight(count: int, lanes: int, operation: Callable[[int], Awaitable[Any]]) -> None:
    """Run ``operation(0..count-1)`` with ``lanes`` of them in flight at any time.

    Every scenario drives both sides with this same loop, so the window is identical.
    """
    numbers = iter(range(count))

    async def lane() -> None:
        for number in numbers:
            await operation(number)

    await asyncio.gather(*(lane() for _ in range(min(lanes, count))))


class Admin:
    """One aiormq connection for declares, purges and filling queues."""

    def __init__(self, url: str, exchange: str) -> None:
        self.url = url
        self.exchange = exchange
        self._connection: Any = None
        self._channel: Any = None
        self.server_version = "?"

    async def open(self) -> Admin:
        self._connection = await aiormq.connect(self.url)
        version = self._connection.server_properties.get("version", b"?")
        self.server_version = version.decode() if isinstance(version, bytes) else str(version)
        self._channel = await self._connection.channel(publisher_confirms=True)
        await self._channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        return self

    async def close(self) -> None:
        if self._connection is not None:
            await self._channel.exchange_delete(self.exchange)
            await self._connection.close()

    async def queue(self, name: str, key: str | None = None) -> None:
        """A durable queue (as vincent declares it) bound to the exchange with ``key``."""
        await self._channel.queue_declare(name, durable=True)
        await self._channel.queue_bind(name, self.exchange, routing_key=key or name)

    async def depth(self, name: str) -> int:
        ok = await self._channel.queue_declare(name, passive=True)
        return int(ok.message_count or 0)

    async def purge(self, name: str) -> None:
        await self._channel.queue_purge(name)

    async def delete(self, *names: str) -> None:
        for name in names:
            await self._channel.queue_delete(name)

    async def fill(self, key: str, count: int, *, window: int = 2_000) -> None:
        """Publish ``count`` persistent, confirmed JSON messages to ``key``."""

        async def publish(number: int) -> None:
            properties = spec.Basic.Properties(
                content_type="application/json",
                delivery_mode=2,
                message_id=uuid.uuid4().hex,
            )
            await self._publish(key, body_bytes(number), properties)

        await in_flight(count, window, publish)

    async def fill_calls(
        self, key: str, count: int, *, reply_to: str, timeout: float, window: int = 2_000
    ) -> None:
        """Publish ``count`` call requests to ``key`` as ``Client.call`` makes them (ids,
        timestamp, ``expiration`` and ``x-vincent-deadline`` from ``timeout``), with a
        ``reply_to`` nobody answers from."""
        from vincent_core.transport.amqp.properties import to_properties
        from vincent_core.wire.envelope import build_call

        async def publish(number: int) -> None:
            request = build_call(
                self.exchange, key, body(number), timeout=timeout, reply_to=reply_to
            )
            await self._publish(key, request.body, to_properties(request))

        await in_flight(count, window, publish)

    async def _publish(self, key: str, payload: bytes, properties: spec.Basic.Properties) -> None:
        confirm = await self._channel.basic_publish(
            payload, exchange=self.exchange, routing_key=key, properties=properties
        )
        if not isinstance(confirm, spec.Basic.Ack):
            raise RuntimeError(f"fill {key}: the broker refused a message")

    async def top_up(self, queue: str, key: str, depth: int) -> None:
        """Fill ``queue`` back up to ``depth`` ready messages."""
        missing = depth - await self.depth(queue)
        if missing > 0:
            await self.fill(key, missing)

    async def wait_empty(self, queue: str, timeout: float = 30.0) -> None:
        """Wait until ``queue`` has no ready messages."""
        end = time.monotonic() + timeout
        while await self.depth(queue) and time.monotonic() < end:
            await asyncio.sleep(0.05)
