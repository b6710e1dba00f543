"""The raw aio-pika baseline: what a careful user writes by hand, same guarantees as vincent.

Persistent JSON messages with id and timestamp, publisher confirms awaited, mandatory
publishes, manual acks after the work, replies published (and confirmed) before the
request is acked, direct reply-to for calls.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Self

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage

__all__ = ["Publisher", "RpcClient", "consume", "drain", "reply_to"]

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
JSON = "application/json"


def _request(body: Any, **properties: Any) -> aio_pika.Message:
    return aio_pika.Message(
        orjson.dumps(body),
        content_type=JSON,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=uuid.uuid4().hex,
        timestamp=time.time(),
        **properties,
    )


class Publisher:
    """A confirm channel on the exchange; ``cast`` returns once the broker confirmed."""

    def __init__(self, url: str, exchange: str) -> None:
        self.url = url
        self.exchange_name = exchange
        self.connection: aio_pika.abc.AbstractConnection | None = None
        self.channel: AbstractChannel | None = None
        self.exchange: AbstractExchange | None = None

    async def open(self) -> None:
        self.connection = await aio_pika.connect(self.url)
        self.channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self.exchange = await self.channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def cast(self, key: str, body: Any) -> None:
        assert self.exchange is not None
        await self.exchange.publish(_request(body), routing_key=key, mandatory=True)


class RpcClient(Publisher):
    """Calls over direct reply-to: one reply consumer, futures by correlation id."""

    def __init__(self, url: str, exchange: str) -> None:
        super().__init__(url, exchange)
        self.pending: dict[str, asyncio.Future[AbstractIncomingMessage]] = {}

    async def open(self) -> None:
        await super().open()
        assert self.channel is not None
        replies = await self.channel.get_queue(DIRECT_REPLY_TO, ensure=False)
        await replies.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self.pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(message)

    async def call(self, key: str, body: Any, timeout: float = 10.0) -> Any:
        assert self.exchange is not None
        correlation_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.pending[correlation_id] = future
        try:
            request = _request(
                body,
                correlation_id=correlation_id,
                reply_to=DIRECT_REPLY_TO,
                expiration=timeout,
            )
            await self.exchange.publish(request, routing_key=key, mandatory=True)
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self.pending.pop(correlation_id, None)
        return orjson.loads(reply.body)


async def reply_to(channel: AbstractChannel, request: AbstractIncomingMessage, value: Any) -> None:
    """Publish (confirmed, never mandatory to a reply-to address) the reply to ``request``."""
    reply = aio_pika.Message(
        orjson.dumps(value), content_type=JSON, correlation_id=request.correlation_id
    )
    await channel.default_exchange.publish(
        reply, routing_key=request.reply_to or "", mandatory=False
    )


async def consume(
    channel: AbstractChannel,
    queue: str,
    exchange: str,
    handler: Callable[[AbstractIncomingMessage], Awaitable[None]],
) -> None:
    """Declare ``queue`` (durable, bound with its own name) and consume it, acking manually."""
    declared = await channel.declare_queue(queue, durable=True)
    await declared.bind(exchange, routing_key=queue)
    await declared.consume(handler)


async def drain(url: str, queue: str, on_message: Callable[[], None], prefetch: int) -> None:
    """Consume ``queue`` with ``prefetch``; decode, call ``on_message``, ack; until cancelled."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        declared = await channel.get_queue(queue, ensure=False)

        async def handle(message: AbstractIncomingMessage) -> None:
            orjson.loads(message.body)
            on_message()
            await message.ack()

        await declared.consume(handle)
        await asyncio.Event().wait()
    finally:
        await connection.close()
