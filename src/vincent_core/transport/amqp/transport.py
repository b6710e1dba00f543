"""The RabbitMQ transport: two connections per process and URL, behind one seam.

- The **publishing** connection (:class:`.Publisher`) carries every publish (casts,
  calls, replies, retry and dead-letter copies) on one confirm channel, and the direct
  reply-to consumer, which must share that channel.
- The **consuming** connection carries the consumers (one channel each, for its own
  prefetch window), their acks and rejects, ``basic.get`` and the declares (on an
  admin channel of its own, so that a refused declare closes neither publishes nor
  consumers).

RabbitMQ blocks a connection that publishes during a resource alarm and then stops
reading it; with the acks on a connection that never publishes, a worker keeps
consuming and acking while its publishes wait (within their timeouts).

Every wait on the broker is bounded: connecting and the handshake by
``connect_timeout``, channel opens, declares, cancels and flushes by the same
``operation_timeout``, publishes and calls by their own timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from vincent_core.config import DEFAULT_CONNECT_TIMEOUT, mask_url
from vincent_core.errors import ConnectionLost, VincentError
from vincent_core.transport.amqp.channel import Channel
from vincent_core.transport.amqp.connection import Connection
from vincent_core.transport.amqp.consumers import AmqpDelivery, Consumer
from vincent_core.transport.amqp.exceptions import NOT_FOUND, ChannelClosed
from vincent_core.transport.amqp.link import Link
from vincent_core.transport.amqp.policies import backoff
from vincent_core.transport.amqp.publisher import Publisher
from vincent_core.transport.amqp.translate import translate_errors
from vincent_core.transport.base import (
    DIRECT_REPLY_TO,
    ConnectionState,
    Delivery,
    DeliveryHandler,
    QueueInfo,
    QueueSpec,
    ReplyHandler,
    Subscription,
    Transport,
)
from vincent_core.wire.envelope import Envelope

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "AmqpTransport"]

log = logging.getLogger("vincent.transport")

T = TypeVar("T")


class AmqpTransport(Transport):
    """Two RabbitMQ connections that reconnect by themselves and restore the topology.

    ``url`` may list several comma-separated URLs (the nodes of a cluster): connecting
    and reconnecting try them in turn.
    """

    def __init__(self, url: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> None:
        self.url = url
        self.urls = [part.strip() for part in url.split(",") if part.strip()] or [url]
        self.masked_url = mask_url(url)
        super().__init__()
        self.connect_timeout = connect_timeout
        #: the bound on each channel open, declare, cancel and flush
        self.operation_timeout = connect_timeout
        self._closing = False
        self._consuming = Link(
            "consume",
            self.urls,
            self.masked_url,
            connect_timeout=connect_timeout,
            on_open=self._consuming_opened,
            on_lost=lambda _cause: None,
            on_change=self._links_changed,
        )
        self._publishing = Link(
            "publish",
            self.urls,
            self.masked_url,
            connect_timeout=connect_timeout,
            on_open=self._publishing_opened,
            on_lost=self._publishing_lost,
            on_change=self._links_changed,
        )
        self._publisher = Publisher(
            self._publishing,
            deliver_reply=self._deliver_reply,
            replies_lost=self._replies_lost,
            spawn=self._spawn,
        )
        self._admin: Channel | None = None
        self._exchanges: list[str] = []
        self._queues: dict[str, QueueSpec] = {}
        self._bindings: list[tuple[str, str, str]] = []
        self._consumers: list[Consumer] = []
        #: channel reopens, consumer restarts and channel closes under way
        self._background: set[asyncio.Task[Any]] = set()

    # -- state ---------------------------------------------------------------------

    @property
    def blocked(self) -> bool:
        """True while the broker blocks the publishing connection (a resource alarm)."""
        return self._publishing.blocked

    @property
    def blocked_reason(self) -> str:
        """The broker's reason while :attr:`blocked` (``low on memory``...), else ``""``."""
        return self._publishing.blocked_reason if self._publishing.blocked else ""

    def _links_changed(self) -> None:
        links = (self._consuming.state, self._publishing.state)
        state: ConnectionState
        if self._closing:
            state = "closed"
        elif "reconnecting" in links:
            state = "reconnecting"
        elif links != ("connected", "connected"):
            state = "connecting" if self.state in ("closed", "connecting") else "reconnecting"
        elif self._publishing.blocked:
            state = "blocked"
        else:
            state = "connected"
        self._set_state(state)

    def _publishing_lost(self, cause: str) -> None:
        self._replies_lost(f"the publishing connection was lost ({cause})")

    def _replies_lost(self, reason: str) -> None:
        for listener in list(self._reply_loss_listeners):
            listener(reason)

    # -- connection ----------------------------------------------------------------

    async def connect(self) -> None:
        self._closing = False
        self._set_state("connecting")
        await self._consuming.connect()
        try:
            await self._publishing.connect()
        except BaseException:
            await self._consuming.close(flush=0)
            self._set_state("closed")
            raise

    async def _publishing_opened(self, connection: Connection) -> None:
        self.frame_max = self._publishing.frame_max
        with translate_errors(self.masked_url, "open the publish channel"):
            await self._publisher.open(connection)

    async def _consuming_opened(self, connection: Connection) -> None:
        with translate_errors(self.masked_url, "restore the topology"):
            admin = self._admin = await connection.channel()
            for name in self._exchanges:
                await self._declare_exchange(admin, name)
            for queue_spec in self._queues.values():
                await self._declare_queue(admin, queue_spec)
            for queue, exchange, pattern in self._bindings:
                await admin.queue_bind(queue, exchange, pattern)
            for consumer in self._consumers:
                await consumer.start(connection)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The next publish tries again, and a lost connection is the reconnect's.
            log.warning("on %s: %s", self.masked_url, task.exception())

    async def close(self) -> None:
        self._closing = True
        for task in list(self._background):
            task.cancel()
        self._publisher.close()
        # Acks first: the consuming connection's close lets queued acks reach the
        # socket; both are bounded, and close side by side.
        await asyncio.gather(
            self._consuming.close(flush=2.0),
            self._publishing.close(flush=0.5),
            return_exceptions=True,
        )
        self._set_state("closed")

    # -- admin operations ------------------------------------------------------------

    async def _admin_channel(self, what: str) -> Channel:
        link = self._consuming
        if self._closing or link.closing:
            raise ConnectionLost(f"{what}: the connection to {self.masked_url} is closed")
        try:
            async with asyncio.timeout(self.operation_timeout):
                await link.connected.wait()
                admin = self._admin
                if admin is None or admin.is_closed:
                    assert link.connection is not None
                    with translate_errors(self.masked_url, what):
                        admin = self._admin = await link.connection.channel()
                return admin
        except TimeoutError:
            raise ConnectionLost(
                f"{what}: not connected to {self.masked_url} within {self.operation_timeout:g}s"
            ) from None

    async def _run(self, what: str, operation: Callable[[Channel], Awaitable[T]]) -> T:
        """Run a declare/inspect/bind on the admin channel, within ``operation_timeout``.

        These run apart from the publish channel and the consumers because a refused one
        (404 on a passive declare, 406 on mismatched arguments) closes its channel.
        """
        channel = await self._admin_channel(what)
        try:
            with translate_errors(self.masked_url, what):
                async with asyncio.timeout(self.operation_timeout):
                    return await operation(channel)
        except TimeoutError:
            # A late answer would confuse the channel's next request: give it up.
            if self._admin is channel:
                self._admin = None
                self._spawn(_close_quietly(channel))
            raise ConnectionLost(
                f"{what}: no answer from {self.masked_url} within {self.operation_timeout:g}s"
            ) from None

    @staticmethod
    async def _declare_exchange(channel: Channel, name: str) -> None:
        await channel.exchange_declare(name, "topic", durable=True)

    async def declare_exchange(self, name: str) -> None:
        await self._run(f"declare exchange {name!r}", lambda ch: self._declare_exchange(ch, name))
        if name not in self._exchanges:
            self._exchanges.append(name)

    @staticmethod
    async def _declare_queue(channel: Channel, queue_spec: QueueSpec) -> QueueInfo:
        ok = await channel.queue_declare(
            queue_spec.name,
            durable=queue_spec.durable,
            exclusive=queue_spec.exclusive,
            auto_delete=queue_spec.auto_delete,
            arguments=queue_spec.arguments or None,
        )
        return QueueInfo(ok.queue or queue_spec.name, ok.message_count or 0, ok.consumer_count or 0)

    async def declare_queue(self, spec_: QueueSpec) -> QueueInfo:
        info = await self._run(
            f"declare queue {spec_.name!r}", lambda ch: self._declare_queue(ch, spec_)
        )
        self._queues[spec_.name] = spec_
        return info

    async def inspect_queue(self, name: str) -> QueueInfo | None:
        async def passive(channel: Channel) -> QueueInfo | None:
            try:
                ok = await channel.queue_declare(name, passive=True)
            except ChannelClosed as exc:
                if exc.reply_code != NOT_FOUND:
                    raise
                return None
            return QueueInfo(name, ok.message_count or 0, ok.consumer_count or 0)

        return await self._run(f"inspect queue {name!r}", passive)

    async def delete_queue(self, name: str) -> None:
        self._queues.pop(name, None)
        self._bindings = [b for b in self._bindings if b[0] != name]
        for consumer in [c for c in self._consumers if c.queue == name]:
            # The broker would cancel them anyway: as our own doing, not to be undone.
            await consumer.cancel()
        if not self._consuming.connected.is_set():
            # Forgotten locally, so a reconnect will not declare it again; waiting for the
            # broker here would hang a shutdown during an outage.
            return
        await self._run(f"delete queue {name!r}", lambda ch: ch.queue_delete(name))

    async def purge_queue(self, name: str) -> int:
        return await self._run(f"purge queue {name!r}", lambda ch: ch.queue_purge(name))

    async def bind(self, queue: str, exchange: str, pattern: str) -> None:
        await self._run(
            f"bind {queue!r} to {exchange!r}",
            lambda ch: ch.queue_bind(queue, exchange, pattern),
        )
        if (queue, exchange, pattern) not in self._bindings:
            self._bindings.append((queue, exchange, pattern))

    async def unbind(self, queue: str, exchange: str, pattern: str) -> None:
        with contextlib.suppress(ValueError):
            self._bindings.remove((queue, exchange, pattern))
        if not self._consuming.connected.is_set():
            return
        await self._run(f"unbind {queue!r}", lambda ch: ch.queue_unbind(queue, exchange, pattern))

    # -- messages ------------------------------------------------------------------

    async def publish(
        self,
        envelope: Envelope,
        *,
        mandatory: bool = False,
        timeout: float | None = None,
        answered: asyncio.Future[Any] | None = None,
    ) -> None:
        if self._closing:
            raise ConnectionLost(
                f"publish to {envelope.routing_key!r}: the connection to "
                f"{self.masked_url} is closed"
            )
        await self._publisher.publish(
            envelope, mandatory=mandatory, timeout=timeout, answered=answered
        )

    async def consume(
        self, queue: str, handler: DeliveryHandler, *, prefetch: int, exclusive: bool = False
    ) -> Subscription:
        what = f"consume {queue!r}"
        await self._admin_channel(what)  # connected, within the operation timeout
        link = self._consuming
        consumer = Consumer(
            queue,
            handler,
            prefetch,
            exclusive,
            restart=self._restart_consumer,
            forget=self._forget_consumer,
            spawn=self._spawn,
            timeout=self.operation_timeout,
        )
        assert link.connection is not None
        try:
            with translate_errors(self.masked_url, what):
                async with asyncio.timeout(self.operation_timeout):
                    await consumer.start(link.connection)
        except TimeoutError:
            raise ConnectionLost(
                f"{what}: no answer from {self.masked_url} within {self.operation_timeout:g}s"
            ) from None
        self._consumers.append(consumer)
        return consumer

    def _forget_consumer(self, consumer: Consumer) -> None:
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)

    def _restart_consumer(self, consumer: Consumer, connection: Connection, reason: str) -> None:
        if self._consuming.alive(connection):
            log.warning("consumer of %r %s; consuming again", consumer.queue, reason)
            self._spawn(self._consume_again(consumer, connection))

    async def _consume_again(self, consumer: Consumer, connection: Connection) -> None:
        # A lost connection is the reconnect's to restore; a deleted queue is declared
        # again (with its bindings) when this transport declared it.
        attempt = 0
        while self._consuming.alive(connection) and not consumer.cancelled:
            try:
                queue_spec = self._queues.get(consumer.queue)
                if queue_spec is not None:
                    await self.declare_queue(queue_spec)
                    for queue, exchange, pattern in list(self._bindings):
                        if queue == consumer.queue:
                            await self.bind(queue, exchange, pattern)
                with translate_errors(self.masked_url, f"consume {consumer.queue!r}"):
                    async with asyncio.timeout(self.operation_timeout):
                        await consumer.start(connection)
                return
            except (VincentError, TimeoutError) as exc:
                delay = backoff(attempt)
                attempt += 1
                log.error("consume %r again failed (%s); next in %ss", consumer.queue, exc, delay)
                await asyncio.sleep(delay)

    async def get(self, queue: str) -> Delivery | None:
        async def take(channel: Channel) -> Delivery | None:
            message = await channel.basic_get(queue)
            return None if message is None else AmqpDelivery(message, channel)

        return await self._run(f"get from {queue!r}", take)

    async def replies(self, handler: ReplyHandler, *, timeout: float | None = None) -> str:
        self._add_reply_handler(handler)
        try:
            await self._publisher.ensure_replies(timeout)
        except TimeoutError:
            self.forget_replies(handler)
            raise ConnectionLost(
                f"start the reply consumer: no answer from {self.masked_url} within {timeout:g}s"
            ) from None
        except BaseException:
            self.forget_replies(handler)
            raise
        return DIRECT_REPLY_TO


async def _close_quietly(channel: Channel) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await channel.close()
