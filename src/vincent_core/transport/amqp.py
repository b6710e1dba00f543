"""The RabbitMQ transport, built directly on aiormq (one level below aio-pika).

This is the one place where broker and socket errors become ``VincentError``s. One
connection; one confirm channel for every publish and for the direct reply-to consumer
(RabbitMQ requires requests and their reply consumer on the same channel); one channel
per consumer so that each has its own prefetch window.

The hot paths (publish, ack, reject) do not go through aiormq's ``basic_publish`` and
``basic_ack``: they pack their frames themselves (:mod:`.frames`), register the confirm
in aiormq's channel as ``basic_publish`` would, and write through the connection's
:class:`~.outbox.Outbox`, so many messages in flight share one write per loop
iteration. Nothing waits less for it: a publish still returns only after its confirm,
and an ack is still written only once the dispatcher settles the message. This reaches
into aiormq's channel (``delivery_tag``, ``confirmations``, ``message_id_delivery_tag``,
``max_content_size``), hence the ``aiormq<8`` pin.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import aiormq
import aiormq.abc
from pamqp import commands as spec
from pamqp.common import FieldTable

from vincent_core.config import mask_url
from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    NoRoute,
    PublishFailed,
    VincentError,
)
from vincent_core.transport.acks import Settlements
from vincent_core.transport.base import (
    DIRECT_REPLY_TO,
    Delivery,
    DeliveryHandler,
    QueueInfo,
    QueueSpec,
    ReplyHandler,
    Subscription,
    Transport,
)
from vincent_core.transport.frames import ack_frame, publish_frames, reject_frame
from vincent_core.transport.outbox import (
    ConfirmDeadlines,
    Outbox,
    channel_open,
    settle_confirms_in_order,
)
from vincent_core.wire.envelope import Envelope, new_id

__all__ = ["AmqpTransport"]

log = logging.getLogger("vincent.transport")
_aiormq_log = logging.getLogger("aiormq")
if _aiormq_log.level == logging.NOTSET:
    # vincent reports connection loss and reconnects itself, in one line; aiormq's own
    # tracebacks for the same events would only bury that line. Set the "aiormq"
    # logger's level explicitly to see them again.
    _aiormq_log.setLevel(logging.CRITICAL)
T = TypeVar("T")

_BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
# Nacks in a row, no ack between, after which the publish channel is replaced. RabbitMQ
# 3.10 leaves a channel whose first quorum-queue publish fell in a leader election
# nacking every later one (docs/operations.md); a new channel is not affected. A full
# queue with x-overflow=reject-publish nacks too, but acks to other queues reset this.
_NACKS_BEFORE_NEW_CHANNEL = 3
# How long a replaced publish channel stays open for the confirms still due on it.
_RETIRE_WAIT = 5.0
_UTC = dt.UTC


def to_properties(envelope: Envelope) -> spec.Basic.Properties:
    """Envelope fields to pamqp properties."""
    stamp = envelope.timestamp
    return spec.Basic.Properties(
        content_type=envelope.content_type,
        content_encoding=envelope.content_encoding,
        headers=envelope.headers or None,
        delivery_mode=envelope.delivery_mode,
        priority=envelope.priority,
        correlation_id=envelope.correlation_id,
        reply_to=envelope.reply_to,
        expiration=envelope.expiration,
        message_id=envelope.message_id,
        timestamp=dt.datetime.fromtimestamp(stamp, _UTC) if stamp is not None else None,
        message_type=envelope.type,
        user_id=envelope.user_id,
        app_id=envelope.app_id,
    )


def to_envelope(message: aiormq.abc.DeliveredMessage) -> Envelope:
    """A received aiormq message as an Envelope."""
    props = message.header.properties
    stamp = props.timestamp
    return Envelope(
        exchange=message.exchange or "",
        routing_key=message.routing_key or "",
        body=message.body,
        headers=dict(props.headers) if props.headers else {},
        content_type=props.content_type,
        content_encoding=props.content_encoding,
        delivery_mode=props.delivery_mode,
        priority=props.priority,
        correlation_id=props.correlation_id,
        reply_to=props.reply_to,
        expiration=props.expiration,
        message_id=props.message_id,
        timestamp=int(stamp.timestamp()) if stamp is not None else None,
        type=props.message_type,
        user_id=props.user_id,
        app_id=props.app_id,
    )


@contextlib.contextmanager
def translate_errors(masked_url: str, what: str) -> Iterator[None]:
    """The seam: aiormq and socket errors in, VincentErrors out."""
    try:
        yield
    except VincentError:
        raise
    except aiormq.exceptions.PublishError as exc:
        frame = exc.frame if isinstance(exc.frame, spec.Basic.Return) else None
        key = frame.routing_key if frame is not None else ""
        raise NoRoute(key or "", exchange=frame.exchange if frame else "") from None
    except aiormq.exceptions.DeliveryError as exc:
        raise PublishFailed(f"{what}: the broker refused the message ({exc})") from None
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        raise ConfigurationError(f"{what}: {_reason(exc)}") from None
    except aiormq.exceptions.ChannelNotFoundEntity as exc:
        raise ConfigurationError(f"{what}: {_reason(exc)}") from None
    except aiormq.exceptions.ChannelAccessRefused as exc:
        raise ConfigurationError(f"{what}: access refused: {_reason(exc)}") from None
    except aiormq.exceptions.ChannelLockedResource as exc:
        raise ConfigurationError(f"{what}: {_reason(exc)}") from None
    except (
        aiormq.exceptions.AuthenticationError,
        aiormq.exceptions.ProbableAuthenticationError,
    ) as exc:
        if "ACCESS_REFUSED" not in str(exc) and "auth" not in str(exc).lower():
            raise ConnectionFailed(
                f"cannot connect to {masked_url}: {_reason(exc)}", url=masked_url
            ) from None
        raise AuthenticationFailed(
            f"authentication failed for {masked_url}: check the user and password",
            url=masked_url,
        ) from None
    except aiormq.exceptions.IncompatibleProtocolError:
        raise ConnectionFailed(f"{masked_url} does not speak AMQP 0-9-1", url=masked_url) from None
    except (
        aiormq.exceptions.AMQPConnectionError,
        aiormq.exceptions.ChannelInvalidStateError,
        aiormq.exceptions.AMQPChannelError,
        ConnectionError,
    ) as exc:
        raise ConnectionLost(f"{what}: connection to {masked_url} lost ({_reason(exc)})") from None


def _connect_reason(exc: BaseException) -> str:
    for arg in exc.args:
        if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], str):
            return arg[1]
    return _reason(exc)


def _reason(exc: BaseException) -> str:
    args = [a for a in exc.args if isinstance(a, str)]
    if args:
        return args[-1]
    for arg in exc.args:
        text = getattr(arg, "reply_text", None)
        if text:
            return str(text)
    return str(exc) or type(exc).__name__


class _AmqpDelivery(Delivery):
    __slots__ = ("_channel", "_outbox", "_settlements", "_tag")

    def __init__(
        self,
        envelope: Envelope,
        redelivered: bool,
        channel: Any,
        tag: int,
        outbox: Outbox,
        settlements: Settlements | None = None,
    ) -> None:
        super().__init__(envelope, redelivered)
        self._channel = channel
        self._tag = tag
        self._outbox = outbox
        self._settlements = settlements

    # Both only queue the frame (sent at the end of this loop iteration, with the other
    # acks and replies of it): nothing here needs to wait for the socket. A consumer's
    # deliveries settle through its channel's Settlements, which turns runs of acks into
    # one. After a reconnect the old channel is gone and the broker has already
    # requeued the message: there is nothing left to settle, and the outbox drops it.
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

    channel: Any
    busy: int = 0
    retired: bool = False


@dataclass(eq=False)
class _Consumer(Subscription):
    transport: AmqpTransport
    queue: str
    handler: DeliveryHandler
    prefetch: int
    exclusive: bool
    lease: _Lease | None = None
    outbox: Outbox | None = None
    tag: str = ""
    cancelled: bool = False

    async def start(self, connection: Any, outbox: Outbox) -> None:
        channel = await connection.channel()
        lease = self.lease = _Lease(channel)
        self.outbox = outbox
        await channel.basic_qos(prefetch_count=self.prefetch)
        settlements = Settlements(channel.number)

        async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
            delivery = _AmqpDelivery(
                to_envelope(message),
                bool(message.redelivered),
                channel,
                message.delivery_tag or 0,
                outbox,
                settlements,
            )
            lease.busy += 1
            try:
                await self.handler(delivery)
            finally:
                lease.busy -= 1
                if (self.cancelled or lease.retired) and lease.busy == 0:
                    await self._close_channel(channel, outbox)

        ok = await channel.basic_consume(self.queue, on_message, exclusive=self.exclusive)
        self.tag = ok.consumer_tag
        if self.cancelled:  # while it started (consuming again): stop this one too
            await self.cancel()
            return
        # The broker may end this consumer while the connection lives on: it closes the
        # channel (consumer_timeout, a refused ack) or cancels the consumer (its queue
        # was deleted, or its node went down). Either way, consume again.
        cancels = getattr(channel, "on_consumer_cancel_callbacks", None)
        if cancels is not None:
            cancels.add(lambda _frame: self._lost(lease, connection, "cancelled by the broker"))
        channel.closing.add_done_callback(
            lambda closing: self._lost(
                lease, connection, f"lost its channel ({_close_cause(closing)})"
            )
        )

    def _lost(self, lease: _Lease, connection: Any, reason: str) -> None:
        if lease.retired or self.cancelled or lease is not self.lease:
            return
        lease.retired = True
        if lease.busy == 0 and self.outbox is not None:
            self.transport._spawn(self._close_channel(lease.channel, self.outbox))
        self.transport._restart_consumer(self, connection, reason)

    async def cancel(self) -> None:
        self.cancelled = True
        with contextlib.suppress(ValueError):
            self.transport._consumers.remove(self)
        lease, outbox = self.lease, self.outbox
        if lease is not None and outbox is not None and not lease.channel.is_closed:
            with contextlib.suppress(aiormq.exceptions.AMQPError, ConnectionError):
                await outbox.flush()
                await lease.channel.basic_cancel(self.tag)
            if lease.busy == 0:
                await self._close_channel(lease.channel, outbox)

    @staticmethod
    async def _close_channel(channel: Any, outbox: Outbox) -> None:
        # Deliveries still being handled need the channel to be acked on; the last one
        # to finish closes it (prefetched, unstarted ones then return to the queue).
        # Its acks must reach the broker before the close, or they become redeliveries.
        if not channel.is_closed:
            with contextlib.suppress(aiormq.exceptions.AMQPError, ConnectionError):
                await outbox.flush()
                await channel.close()


def _close_cause(closing: asyncio.Future[Any]) -> str:
    """Why a channel closed, from its ``closing`` future."""
    exc = None if closing.cancelled() else closing.exception()
    return "closed" if exc is None else _reason(exc)


class AmqpTransport(Transport):
    """A RabbitMQ connection that reconnects by itself and restores its topology.

    ``url`` may list several comma-separated URLs (the nodes of a cluster): connecting
    and reconnecting try them in turn.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.urls = [part.strip() for part in url.split(",") if part.strip()] or [url]
        self._url_index = 0
        self.masked_url = mask_url(url)
        super().__init__()
        self._connection: Any = None
        self._channel: Any = None
        self._outbox: Outbox | None = None
        self._confirm_deadlines = ConfirmDeadlines()
        self._admin: Any = None
        self._connected = asyncio.Event()
        self._closing = False
        self._watcher: asyncio.Task[None] | None = None
        self._exchanges: list[str] = []
        self._queues: dict[str, QueueSpec] = {}
        self._bindings: list[tuple[str, str, str]] = []
        self._consumers: list[_Consumer] = []
        self._reply_handlers: list[ReplyHandler] = []
        # Python 3.10+: a Lock binds to the running loop on first use, not here.
        self._reopening = asyncio.Lock()
        self._lost_channel: Any = None
        self._nacks = 0
        #: channel reopens, consumer restarts and channel closes under way
        self._background: set[asyncio.Task[Any]] = set()
        self.unclaimed_replies = 0
        self._replies_ready: asyncio.Future[None] | None = None

    # -- connection ------------------------------------------------------------------

    async def connect(self) -> None:
        self._closing = False
        self._set_state("connecting")
        try:
            await self._open()
        except BaseException:
            self._set_state("closed")
            raise
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _connect_one(self, url: str) -> Any:
        masked = mask_url(url)
        with translate_errors(masked, "connect"):
            try:
                return await aiormq.connect(url)
            except (
                aiormq.exceptions.AuthenticationError,
                aiormq.exceptions.ProbableAuthenticationError,
            ):
                raise
            except aiormq.exceptions.AMQPConnectionError as exc:
                raise ConnectionFailed(
                    f"cannot connect to {masked}: {_connect_reason(exc)}", url=masked
                ) from None
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot connect to {masked}: {exc.strerror or exc}", url=masked
                ) from None
            except (ValueError, KeyError) as exc:
                raise ConfigurationError(f"bad broker URL {masked}: {exc}") from None

    async def _open(self) -> None:
        # Several URLs are the nodes of one cluster: start with the one that worked last
        # and fail over to the next. A wrong password is wrong everywhere: stop there.
        failure: ConnectionFailed | None = None
        for attempt in range(len(self.urls)):
            index = (self._url_index + attempt) % len(self.urls)
            try:
                connection = await self._connect_one(self.urls[index])
            except AuthenticationFailed:
                raise
            except ConnectionFailed as exc:
                failure = exc
                continue
            self._url_index = index
            break
        else:
            assert failure is not None
            if len(self.urls) > 1:
                raise ConnectionFailed(
                    f"cannot connect to any of {self.masked_url}: {failure}", url=self.masked_url
                )
            raise failure
        try:
            with translate_errors(self.masked_url, "open channel"):
                self._channel = await self._open_publish_channel(connection)
                self._admin = await connection.channel()
                self._connection = connection
                self._outbox = Outbox(connection)
                await self._restore()
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._connected.set()
        self._set_state("connected")

    async def _open_publish_channel(self, connection: Any) -> Any:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        settle_confirms_in_order(channel)
        self._nacks = 0
        # The broker closes this channel alone when it refuses a publish (404: no such
        # exchange) or a quorum queue's leader dies beside it; reopen it at once, so
        # the reply consumer is back before the next call needs it.
        channel.closing.add_done_callback(
            lambda closing: self._publish_channel_lost(channel, connection, _close_cause(closing))
        )
        return channel

    def _publish_channel_lost(self, channel: Any, connection: Any, cause: str) -> None:
        """Report once that the broker closed the publish ``channel``, and reopen it.

        Called by whoever sees it first (the channel's close, or a publish on it), so
        that calls made after that are not failed with the ones whose replies died.
        """
        if self._lost_channel is channel or self._channel is not channel:
            return
        if not self._alive(connection):
            return
        self._lost_channel = channel
        for listener in list(self._reply_loss_listeners):
            listener(f"the reply channel was lost ({cause})")
        self._spawn(self._reopen_publish_channel(channel))

    def _alive(self, connection: Any) -> bool:
        return not self._closing and self._connection is connection and not connection.is_closed

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The next publish tries again, and a lost connection is the reconnect's.
            log.warning("on %s: %s", self.masked_url, task.exception())

    async def _reopen_publish_channel(self, dead: Any) -> Any:
        """The publish channel in place of ``dead`` (opened once, whoever asks first)."""
        async with self._reopening:
            connection = self._connection
            if self._channel is not dead or not self._alive(connection):
                return self._channel
            with translate_errors(self.masked_url, "reopen the publish channel"):
                channel = await self._open_publish_channel(connection)
                self._channel = channel
                if self._reply_handlers:
                    await self._start_replies()
            if channel_open(dead):
                # Replaced while open (it nacked everything): its close is ours, once
                # what was published on it has its answer.
                self._spawn(self._retire(dead))
            log.warning("replaced the publish channel on %s", self.masked_url)
            return channel

    @staticmethod
    async def _retire(channel: Any) -> None:
        pending = [future for future in channel.confirmations.values() if not future.done()]
        if pending:
            await asyncio.wait(pending, timeout=_RETIRE_WAIT)
        await channel.close()

    def _restart_consumer(self, consumer: _Consumer, connection: Any, reason: str) -> None:
        if self._alive(connection):
            log.warning("consumer of %r %s; consuming again", consumer.queue, reason)
            self._spawn(self._consume_again(consumer, connection))

    async def _consume_again(self, consumer: _Consumer, connection: Any) -> None:
        # A lost connection is the reconnect's to restore; a deleted queue is declared
        # again (with its bindings) when this transport declared it.
        attempt = 0
        while self._alive(connection) and not consumer.cancelled:
            try:
                queue_spec = self._queues.get(consumer.queue)
                if queue_spec is not None:
                    await self.declare_queue(queue_spec)
                    for queue, exchange, pattern in list(self._bindings):
                        if queue == consumer.queue:
                            await self.bind(queue, exchange, pattern)
                assert self._outbox is not None
                with translate_errors(self.masked_url, f"consume {consumer.queue!r}"):
                    await consumer.start(connection, self._outbox)
                return
            except VincentError as exc:
                delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
                attempt += 1
                log.error("consume %r again failed (%s); next in %ss", consumer.queue, exc, delay)
                await asyncio.sleep(delay)

    async def _restore(self) -> None:
        for name in self._exchanges:
            await self._declare_exchange(self._admin, name)
        for queue_spec in self._queues.values():
            await self._declare_queue(self._admin, queue_spec)
        for queue, exchange, pattern in self._bindings:
            await self._admin.queue_bind(queue, exchange, routing_key=pattern)
        if self._reply_handlers:
            await self._start_replies()
        assert self._outbox is not None
        for consumer in self._consumers:
            await consumer.start(self._connection, self._outbox)

    async def _watch(self) -> None:
        while not self._closing:
            connection = self._connection
            with contextlib.suppress(BaseException):
                await connection.closing
            if self._is_closing():
                return
            self._connected.clear()
            if self._outbox is not None:
                self._outbox.abandon()
            self._set_state("reconnecting")
            log.warning("connection to %s lost; reconnecting", self.masked_url)
            attempt = 0
            while not self._closing:
                try:
                    await self._open()
                    log.warning("reconnected to %s", self.masked_url)
                    break
                except VincentError as exc:
                    delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
                    attempt += 1
                    # A topology the broker now refuses (someone redeclared a queue with
                    # other arguments) is worth shouting about, but giving up would
                    # leave the process connected to nothing: keep trying.
                    level = logging.ERROR if isinstance(exc, ConfigurationError) else logging.DEBUG
                    log.log(
                        level,
                        "reconnect to %s failed (%s); next in %ss",
                        self.masked_url,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)

    def _is_closing(self) -> bool:
        return self._closing

    async def close(self) -> None:
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for task in list(self._background):
            task.cancel()
        self._confirm_deadlines.close()
        if self._connection is not None:
            if self._outbox is not None and not self._connection.is_closed:
                # Acks still queued would be dropped by the close and come back as
                # redeliveries: let them reach the socket first.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._outbox.flush(written=True), 5.0)
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connected.clear()
        self._set_state("closed")

    async def _ready(self, timeout: float | None, what: str) -> Any:
        if self._closing:
            raise ConnectionLost(f"{what}: the connection to {self.masked_url} is closed")
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), timeout)
            except TimeoutError:
                raise PublishFailed(
                    f"{what}: not connected to {self.masked_url} after {timeout:g}s"
                ) from None
        return self._channel

    async def _run(self, what: str, operation: Callable[[Any], Awaitable[T]]) -> T:
        """Run a declare/inspect/bind on the admin channel.

        These run apart from the publish channel because a refused one (404 on a passive
        declare, 406 on mismatched arguments) closes its channel: the publishes, confirms
        and the reply consumer must not go down with it.
        """
        await self._ready(None, what)
        channel = self._admin
        with translate_errors(self.masked_url, what):
            try:
                return await operation(channel)
            finally:
                if channel.is_closed and not self._connection.is_closed and self._admin is channel:
                    self._admin = await self._connection.channel()

    # -- topology --------------------------------------------------------------------

    @staticmethod
    async def _declare_exchange(channel: Any, name: str) -> None:
        await channel.exchange_declare(name, exchange_type="topic", durable=True)

    async def declare_exchange(self, name: str) -> None:
        await self._run(f"declare exchange {name!r}", lambda ch: self._declare_exchange(ch, name))
        if name not in self._exchanges:
            self._exchanges.append(name)

    @staticmethod
    async def _declare_queue(channel: Any, queue_spec: QueueSpec) -> QueueInfo:
        ok = await channel.queue_declare(
            queue_spec.name,
            durable=queue_spec.durable,
            exclusive=queue_spec.exclusive,
            auto_delete=queue_spec.auto_delete,
            arguments=FieldTable(queue_spec.arguments) if queue_spec.arguments else None,
        )
        return QueueInfo(ok.queue or queue_spec.name, ok.message_count or 0, ok.consumer_count or 0)

    async def declare_queue(self, spec_: QueueSpec) -> QueueInfo:
        info = await self._run(
            f"declare queue {spec_.name!r}", lambda ch: self._declare_queue(ch, spec_)
        )
        self._queues[spec_.name] = spec_
        return info

    async def inspect_queue(self, name: str) -> QueueInfo | None:
        async def passive(channel: Any) -> QueueInfo | None:
            try:
                ok = await channel.queue_declare(name, passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return None
            return QueueInfo(name, ok.message_count or 0, ok.consumer_count or 0)

        return await self._run(f"inspect queue {name!r}", passive)

    async def delete_queue(self, name: str) -> None:
        self._queues.pop(name, None)
        self._bindings = [b for b in self._bindings if b[0] != name]
        for consumer in [c for c in self._consumers if c.queue == name]:
            # The broker would cancel them anyway: as our own doing, not to be undone.
            await consumer.cancel()
        if not self._connected.is_set():
            # Forgotten locally, so a reconnect will not declare it again; waiting for the
            # broker here would hang a shutdown during an outage.
            return
        await self._run(f"delete queue {name!r}", lambda ch: ch.queue_delete(name))

    async def purge_queue(self, name: str) -> int:
        ok = await self._run(f"purge queue {name!r}", lambda ch: ch.queue_purge(name))
        return int(ok.message_count or 0)

    async def bind(self, queue: str, exchange: str, pattern: str) -> None:
        await self._run(
            f"bind {queue!r} to {exchange!r}",
            lambda ch: ch.queue_bind(queue, exchange, routing_key=pattern),
        )
        if (queue, exchange, pattern) not in self._bindings:
            self._bindings.append((queue, exchange, pattern))

    async def unbind(self, queue: str, exchange: str, pattern: str) -> None:
        with contextlib.suppress(ValueError):
            self._bindings.remove((queue, exchange, pattern))
        if not self._connected.is_set():
            return
        await self._run(
            f"unbind {queue!r}", lambda ch: ch.queue_unbind(queue, exchange, routing_key=pattern)
        )

    # -- messages --------------------------------------------------------------------

    async def publish(
        self, envelope: Envelope, *, mandatory: bool = False, timeout: float | None = None
    ) -> None:
        channel = self._channel
        if (
            not self._connected.is_set()
            or channel is None
            or channel is self._lost_channel
            or not channel_open(channel)
        ):
            what = f"publish to {envelope.routing_key!r}"
            channel = await self._ready(timeout, what)
            if channel is self._lost_channel or not channel_open(channel):
                self._publish_channel_lost(channel, self._connection, "closed")
                try:
                    channel = await asyncio.wait_for(self._reopen_publish_channel(channel), timeout)
                except TimeoutError:
                    raise PublishFailed(
                        f"{what}: the publish channel to {self.masked_url} did not reopen "
                        f"within {timeout:g}s"
                    ) from None
        outbox = self._outbox
        if outbox is None or not channel_open(channel):
            # The connection is going (a reconnect will follow): aiormq's own path raises
            # exactly what that state means.
            return await self._publish_slowly(channel, envelope, mandatory, timeout)
        # As aiormq's basic_publish does it, without its lock (nothing else publishes on
        # this channel, so tags follow frame order), its per-publish timer and its wait
        # for the writer: the confirm future sits in ``confirmations`` under the next
        # delivery tag; a mandatory publish also maps its message id to that tag, so that
        # a basic.return fails this publish (NoRoute) instead of another.
        message_id = envelope.message_id or new_id()
        data = publish_frames(
            channel.number,
            envelope,
            mandatory=mandatory,
            max_body_frame=channel.max_content_size,
            message_id=message_id,
        )
        channel.delivery_tag += 1
        tag = channel.delivery_tag
        confirmation: asyncio.Future[Any] = channel.create_future()
        channel.confirmations[tag] = confirmation
        if mandatory:
            channel.message_id_delivery_tag[message_id] = tag
        outbox.write(channel, data)
        if timeout is not None:
            self._confirm_deadlines.add(confirmation, timeout)
        try:
            result = await confirmation
        except TimeoutError:
            raise PublishFailed(
                f"publish to {envelope.routing_key!r}: no confirm from {self.masked_url} "
                f"within {timeout:g}s"
            ) from None
        except Exception as exc:
            if not channel_open(channel):
                self._publish_channel_lost(channel, self._connection, _reason(exc))
            elif isinstance(getattr(exc, "frame", None), spec.Basic.Nack):
                self._nacked(channel)
            with translate_errors(self.masked_url, f"publish to {envelope.routing_key!r}"):
                raise exc
            raise
        finally:
            if timeout is not None:
                self._confirm_deadlines.discard(confirmation)
            if mandatory and channel.message_id_delivery_tag.get(message_id) == tag:
                del channel.message_id_delivery_tag[message_id]
        if isinstance(result, spec.Basic.Nack):
            self._nacked(channel)
            raise PublishFailed(f"the broker refused the message to {envelope.routing_key!r}")
        self._nacks = 0
        return None

    def _nacked(self, channel: Any) -> None:
        if channel is not self._channel:
            return
        self._nacks += 1
        if self._nacks >= _NACKS_BEFORE_NEW_CHANNEL:
            self._publish_channel_lost(
                channel, self._connection, f"{self._nacks} publishes in a row were nacked"
            )

    async def _publish_slowly(
        self, channel: Any, envelope: Envelope, mandatory: bool, timeout: float | None
    ) -> None:
        with translate_errors(self.masked_url, f"publish to {envelope.routing_key!r}"):
            try:
                result = await channel.basic_publish(
                    envelope.body,
                    exchange=envelope.exchange,
                    routing_key=envelope.routing_key,
                    properties=to_properties(envelope),
                    mandatory=mandatory,
                    timeout=timeout,
                )
            except TimeoutError:
                raise PublishFailed(
                    f"publish to {envelope.routing_key!r}: no confirm from {self.masked_url} "
                    f"within {timeout:g}s"
                ) from None
        if isinstance(result, spec.Basic.Nack):
            raise PublishFailed(f"the broker refused the message to {envelope.routing_key!r}")

    async def consume(
        self, queue: str, handler: DeliveryHandler, *, prefetch: int, exclusive: bool = False
    ) -> Subscription:
        await self._ready(None, f"consume {queue!r}")
        consumer = _Consumer(self, queue, handler, prefetch, exclusive)
        assert self._outbox is not None
        with translate_errors(self.masked_url, f"consume {queue!r}"):
            await consumer.start(self._connection, self._outbox)
        self._consumers.append(consumer)
        return consumer

    async def get(self, queue: str) -> Delivery | None:
        async def take(channel: Any) -> Delivery | None:
            message = await channel.basic_get(queue, no_ack=False)
            if not isinstance(message.delivery, spec.Basic.GetOk):
                return None
            assert self._outbox is not None
            return _AmqpDelivery(
                to_envelope(message),
                bool(message.redelivered),
                channel,
                message.delivery_tag or 0,
                self._outbox,
            )

        return await self._run(f"get from {queue!r}", take)

    async def _start_replies(self) -> None:
        async def deliver(message: aiormq.abc.DeliveredMessage) -> None:
            envelope = to_envelope(message)
            for handler in self._reply_handlers:
                if handler(envelope):
                    return
            # A late reply (its caller gave up) or a stray one: never anyone else's.
            self.unclaimed_replies += 1

        await self._channel.basic_consume(DIRECT_REPLY_TO, deliver, no_ack=True)

    async def replies(self, handler: ReplyHandler) -> str:
        if handler not in self._reply_handlers:
            self._reply_handlers.append(handler)
        if self._replies_ready is None:
            self._replies_ready = asyncio.get_running_loop().create_future()
            try:
                await self._ready(None, "start reply consumer")
                with translate_errors(self.masked_url, "start reply consumer"):
                    await self._start_replies()
            except BaseException as exc:
                self._replies_ready.set_exception(exc)
                self._replies_ready.exception()
                self._replies_ready = None
                self._reply_handlers.remove(handler)
                raise
            self._replies_ready.set_result(None)
        else:
            await asyncio.shield(self._replies_ready)
        return DIRECT_REPLY_TO
