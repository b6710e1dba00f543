"""One AMQP channel of an owned connection: its requests, consumers and confirms.

Synchronous requests (declares, ``basic.qos``, ``basic.consume``...) are answered in
the order they were sent, so their waiters queue up. A publisher-confirm channel keeps
the confirm future of every publish by delivery tag, in tag order: a ``multiple`` ack
settles a prefix of them. Deliveries go to the consumer's callback as they are read,
synchronously: the callback decides whether the work needs a task of its own.

When the broker closes the channel (or the connection goes), every waiter and
unconfirmed publish fails with the reason, and :attr:`Channel.closing` completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pamqp import commands as spec
from pamqp.base import Frame as PamqpMethod

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.exceptions import AMQPError, ChannelClosed, Nacked, Returned
from vincent_core.transport.amqp.machine import Message, encode_method
from vincent_core.transport.frames import reject_frame

if TYPE_CHECKING:
    from vincent_core.transport.amqp.connection import Connection

__all__ = ["Channel", "MessageCallback"]

MessageCallback = Callable[[Message], None]

log = logging.getLogger("vincent.transport")

_GET_ANSWERS = frozenset({"Basic.GetOk", "Basic.GetEmpty"})


class Channel:
    """A channel of :class:`~.connection.Connection`; open one with
    ``await connection.channel()``."""

    def __init__(self, connection: Connection, number: int) -> None:
        self.connection = connection
        self.number = number
        loop = connection.loop
        #: done when the channel is closed: ``None`` for our own close, the broker's
        #: (or the connection's) reason as the exception otherwise
        self.closing: asyncio.Future[None] = loop.create_future()
        self.consumers: dict[str, MessageCallback] = {}
        #: called with the consumer tag when the broker cancels a consumer
        self.on_cancel: list[Callable[[str], None]] = []
        self.confirming = False
        self._tag = 0
        self._confirms: dict[int, asyncio.Future[bool]] = {}
        self._returns: dict[str, int] = {}
        self._waiters: deque[tuple[frozenset[str], asyncio.Future[Any]]] = deque()
        self._close_sent = False
        self._consumer_count = 0
        self._no_ack: set[str] = set()

    def __repr__(self) -> str:
        return f"<vincent channel {self.number}>"

    # -- state ---------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the channel is closed, or its close has been sent."""
        return self._close_sent or self.closing.done()

    @property
    def is_open(self) -> bool:
        """True while frames may still be sent on the channel."""
        return not self._close_sent and not self.closing.done()

    @property
    def max_body_frame(self) -> int:
        """The largest body payload one frame may carry (frame_max minus framing)."""
        return self.connection.frame_max - 8

    def closed(self, reason: AMQPError | None) -> None:
        """The channel is gone (the connection calls this): fail what waits on it."""
        if self.closing.done():
            return
        failure = reason or ChannelClosed(200, "the channel was closed")
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(failure)
        self._waiters.clear()
        for confirm in self._confirms.values():
            if not confirm.done():
                confirm.set_exception(failure)
        self._confirms.clear()
        self._returns.clear()
        self.consumers.clear()
        if reason is None:
            self.closing.set_result(None)
        else:
            self.closing.set_exception(reason)
            self.closing.exception()  # retrieved: nobody has to await a closed channel

    # -- requests ------------------------------------------------------------------

    def write(self, data: bytes | Settlements) -> None:
        """Frames (or a consumer's pending settlements) for this channel, sent with the
        rest of this loop iteration's writes; dropped once the channel is closed."""
        self.connection.write(self, data)

    async def request(self, method: PamqpMethod, answers: frozenset[str]) -> Any:
        """Send a synchronous method and wait for its answer (one of ``answers``)."""
        if not self.is_open:
            raise self._closed_error()
        waiter: asyncio.Future[Any] = self.connection.loop.create_future()
        self._waiters.append((answers, waiter))
        self.write(encode_method(self.number, method))
        return await waiter

    def _closed_error(self) -> AMQPError:
        if self.closing.done() and not self.closing.cancelled():
            exc = self.closing.exception()
            if isinstance(exc, AMQPError):
                return exc
        return ChannelClosed(504, "the channel is closed")

    def answered(self, method: PamqpMethod | Message) -> None:
        """A method (or a ``basic.get-ok`` message) for the oldest waiting request."""
        name = "Basic.GetOk" if isinstance(method, Message) else method.name
        if isinstance(method, spec.Basic.Cancel):
            self._cancelled(method.consumer_tag or "")
            return
        if not self._waiters:
            return  # an answer to a request given up (its caller's deadline passed)
        answers, waiter = self._waiters.popleft()
        if name not in answers:
            failure = ChannelClosed(0, f"the broker answered {answers} with {name}")
            if not waiter.done():
                waiter.set_exception(failure)
            return
        if not waiter.done():
            waiter.set_result(method)

    def _cancelled(self, consumer_tag: str) -> None:
        self.consumers.pop(consumer_tag, None)
        for callback in list(self.on_cancel):
            callback(consumer_tag)

    def close_now(self) -> None:
        """Send ``channel.close`` (after whatever was written on it before)."""
        if not self.is_closed:
            self.connection.write(None, self.connection.close_channel_frame(self))
            self._close_sent = True

    async def close(self) -> None:
        """Close the channel (after whatever was written on it before), and wait for the
        broker's ``close-ok`` (the caller bounds the wait)."""
        if self.is_closed:
            return
        self.close_now()
        with contextlib.suppress(AMQPError):
            await asyncio.shield(self.closing)

    # -- the methods vincent uses ----------------------------------------------------

    async def confirm_select(self) -> None:
        """Publisher confirms on."""
        await self.request(spec.Confirm.Select(), frozenset({"Confirm.SelectOk"}))
        self.confirming = True

    async def basic_qos(self, prefetch_count: int) -> None:
        await self.request(
            spec.Basic.Qos(prefetch_count=prefetch_count), frozenset({"Basic.QosOk"})
        )

    async def basic_consume(
        self,
        queue: str,
        callback: MessageCallback,
        *,
        no_ack: bool = False,
        exclusive: bool = False,
    ) -> str:
        """Start a consumer; returns its tag. ``callback`` gets each message as it is read.

        The tag is chosen here and the callback registered before ``basic.consume`` is
        sent: the first deliveries may come in the same read as ``consume-ok``.
        """
        self._consumer_count += 1
        tag = f"vincent.{self.number}.{self._consumer_count}"
        self.consumers[tag] = callback
        if no_ack:
            self._no_ack.add(tag)
        try:
            await self.request(
                spec.Basic.Consume(
                    queue=queue, consumer_tag=tag, no_ack=no_ack, exclusive=exclusive
                ),
                frozenset({"Basic.ConsumeOk"}),
            )
        except BaseException:
            self.consumers.pop(tag, None)
            raise
        return tag

    async def basic_cancel(self, consumer_tag: str) -> None:
        await self.request(
            spec.Basic.Cancel(consumer_tag=consumer_tag), frozenset({"Basic.CancelOk"})
        )
        self.consumers.pop(consumer_tag, None)

    async def basic_get(self, queue: str) -> Message | None:
        """One message from ``queue`` (to be acked), or ``None`` when it is empty."""
        answer = await self.request(spec.Basic.Get(queue=queue), _GET_ANSWERS)
        return answer if isinstance(answer, Message) else None

    async def exchange_declare(self, name: str, exchange_type: str, *, durable: bool) -> None:
        await self.request(
            spec.Exchange.Declare(exchange=name, exchange_type=exchange_type, durable=durable),
            frozenset({"Exchange.DeclareOk"}),
        )

    async def queue_declare(
        self,
        name: str,
        *,
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> spec.Queue.DeclareOk:
        answer: spec.Queue.DeclareOk = await self.request(
            spec.Queue.Declare(
                queue=name,
                passive=passive,
                durable=durable,
                exclusive=exclusive,
                auto_delete=auto_delete,
                arguments=arguments,
            ),
            frozenset({"Queue.DeclareOk"}),
        )
        return answer

    async def queue_bind(self, queue: str, exchange: str, routing_key: str) -> None:
        await self.request(
            spec.Queue.Bind(queue=queue, exchange=exchange, routing_key=routing_key),
            frozenset({"Queue.BindOk"}),
        )

    async def queue_unbind(self, queue: str, exchange: str, routing_key: str) -> None:
        await self.request(
            spec.Queue.Unbind(queue=queue, exchange=exchange, routing_key=routing_key),
            frozenset({"Queue.UnbindOk"}),
        )

    async def queue_delete(self, queue: str) -> None:
        await self.request(spec.Queue.Delete(queue=queue), frozenset({"Queue.DeleteOk"}))

    async def queue_purge(self, queue: str) -> int:
        ok: spec.Queue.PurgeOk = await self.request(
            spec.Queue.Purge(queue=queue), frozenset({"Queue.PurgeOk"})
        )
        return ok.message_count or 0

    # -- publisher confirms ------------------------------------------------------------

    def expect_confirm(
        self, message_id: str, *, mandatory: bool
    ) -> tuple[int, asyncio.Future[bool]]:
        """The delivery tag and confirm future of the next publish on this channel.

        The future's result is True once the broker acks the publish; it fails with
        :class:`.Nacked`, :class:`.Returned` (a mandatory publish nobody could take) or
        the channel's close reason.
        """
        self._tag += 1
        tag = self._tag
        future: asyncio.Future[bool] = self.connection.loop.create_future()
        self._confirms[tag] = future
        if mandatory:
            self._returns[message_id] = tag
        return tag, future

    def forget_return(self, message_id: str, tag: int) -> None:
        """A mandatory publish was settled: its message id is no longer needed."""
        if self._returns.get(message_id) == tag:
            del self._returns[message_id]

    def pending_confirms(self) -> list[asyncio.Future[bool]]:
        """Confirm futures still waiting for the broker."""
        return [f for f in self._confirms.values() if not f.done()]

    def confirmed(self, delivery_tag: int, multiple: bool, ack: bool) -> None:
        """``basic.ack``/``basic.nack`` from the broker."""
        confirms = self._confirms
        if multiple:
            # Tags were added in order: the settled ones are a prefix.
            settled = []
            for tag in confirms:
                if tag > delivery_tag:
                    break
                settled.append(tag)
            futures = [confirms.pop(tag) for tag in settled]
        else:
            single = confirms.pop(delivery_tag, None)
            futures = [single] if single is not None else []
        for future in futures:
            if future.done():
                continue  # returned before its ack: it already failed
            if ack:
                future.set_result(True)
            else:
                future.set_exception(Nacked())

    def returned(self, message: Message) -> None:
        """``basic.return``: fail the mandatory publish it belongs to."""
        message_id = message.properties.get("message_id")
        tag = self._returns.pop(message_id, None) if isinstance(message_id, str) else None
        future = self._confirms.get(tag) if tag is not None else None
        if future is not None and not future.done():
            future.set_exception(
                Returned(
                    message.reply_code, message.reply_text, message.exchange, message.routing_key
                )
            )

    def deliver(self, message: Message) -> None:
        """A message for one of this channel's consumers."""
        tag = message.consumer_tag
        callback = self.consumers.get(tag)
        if callback is None:
            if tag not in self._no_ack:
                # A consumer this side no longer has: every delivery ends, so hand it back.
                self.write(reject_frame(self.number, message.delivery_tag, requeue=True))
            return
        try:
            callback(message)
        except Exception:
            # A message the consumer cannot even take in (a bug, or properties no
            # Envelope holds): dead-letter it rather than leave it unacked or loop on it.
            log.exception("channel %d: a delivery could not be handed to its consumer", self.number)
            if tag not in self._no_ack:
                self.write(reject_frame(self.number, message.delivery_tag, requeue=False))
