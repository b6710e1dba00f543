"""Publishing with confirms, and the direct reply-to consumer, on the publishing link.

Every publish goes on one confirm channel of the publishing connection. Direct reply-to
requires the reply consumer on the channel the requests are published on, so it lives
here too: replies are deliveries *to* the publishing connection (no acks: the consumer
is ``no_ack``), which RabbitMQ keeps sending while it blocks the connection's publishes.

A publish packs its frames with :mod:`vincent_core.transport.frames`, registers its
confirm future on the channel and writes through the connection's outbox, so that many
messages in flight share one write per loop iteration. It returns only after its
confirm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from vincent_core.errors import ConnectionLost, PublishFailed
from vincent_core.transport.amqp.channel import Channel
from vincent_core.transport.amqp.connection import Connection
from vincent_core.transport.amqp.exceptions import Nacked
from vincent_core.transport.amqp.machine import Message
from vincent_core.transport.amqp.outbox import ConfirmDeadlines
from vincent_core.transport.amqp.policies import NackCounter
from vincent_core.transport.amqp.properties import envelope_of
from vincent_core.transport.amqp.translate import (
    close_cause,
    closing_cause,
    publish_failure,
    translate_errors,
)
from vincent_core.transport.base import DIRECT_REPLY_TO
from vincent_core.transport.frames import publish_frames
from vincent_core.wire.envelope import Envelope, new_id

__all__ = ["Publisher"]

log = logging.getLogger("vincent.transport")

# How long a replaced publish channel stays open for the confirms still due on it.
_RETIRE_WAIT = 5.0


class Publisher:
    """The publish channel of one link, kept open, and the reply consumer on it."""

    def __init__(
        self,
        link: Any,
        *,
        deliver_reply: Callable[[Envelope], None],
        replies_lost: Callable[[str], None],
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
    ) -> None:
        self.link = link
        self.channel: Channel | None = None
        self._lost_channel: Channel | None = None
        self._deliver_reply = deliver_reply
        self._replies_lost = replies_lost
        self._spawn = spawn
        self._nacks = NackCounter()
        self._reopening = asyncio.Lock()
        self._deadlines = ConfirmDeadlines()
        #: True once a reply handler exists: the reply consumer follows the channel
        self.replies_wanted = False
        #: the channel the reply consumer runs on (never started twice on one channel)
        self._replies_on: Channel | None = None
        self._replies_lock = asyncio.Lock()
        self._replies_task: asyncio.Future[None] | None = None

    # -- the channel ---------------------------------------------------------------

    async def open(self, connection: Connection) -> None:
        """A new connection: open the publish channel (and the reply consumer)."""
        self.channel = await self._open_channel(connection)
        self._lost_channel = None
        if self.replies_wanted:
            await self._start_replies(self.channel)

    async def _open_channel(self, connection: Connection) -> Channel:
        channel = await connection.channel()
        await channel.confirm_select()
        self._nacks.reset()
        # The broker closes this channel alone when it refuses a publish (404: no such
        # exchange; 406: too large) or a quorum queue's leader dies beside it; reopen it
        # at once, so the reply consumer is back before the next call needs it.
        channel.closing.add_done_callback(
            lambda closing: self._channel_lost(channel, connection, closing_cause(closing))
        )
        return channel

    def _channel_lost(self, channel: Channel, connection: Any, cause: str) -> None:
        """Report once that the broker closed the publish ``channel``, and reopen it."""
        if self._lost_channel is channel or self.channel is not channel:
            return
        if not self.link.alive(connection):
            return
        self._lost_channel = channel
        if self._replies_on is channel:
            self._replies_lost(f"the reply channel was lost ({cause})")
        self._spawn(self._reopen(channel))

    async def _reopen(self, dead: Channel) -> Channel:
        """The publish channel in place of ``dead`` (opened once, whoever asks first)."""
        async with self._reopening:
            connection = self.link.connection
            if self.channel is not dead or not self.link.alive(connection):
                assert self.channel is not None
                return self.channel
            with translate_errors(self.link.masked_url, "reopen the publish channel"):
                async with asyncio.timeout(self.link.connect_timeout):
                    channel = await self._open_channel(connection)
                    self.channel = channel
                    if self.replies_wanted:
                        await self._start_replies(channel)
            if dead.is_open:
                # Replaced while open (it nacked everything): its close is ours, once
                # what was published on it has its answer.
                self._spawn(_retire(dead))
            log.warning("replaced the publish channel on %s", self.link.masked_url)
            return channel

    def close(self) -> None:
        """The transport is closing: stop the confirm sweep."""
        self._deadlines.close()

    # -- replies -------------------------------------------------------------------

    async def ensure_replies(self, timeout: float | None) -> None:
        """Start the reply consumer on the current channel unless it runs there.

        The start runs apart from the caller (shielded): a call whose deadline cuts it
        short must not leave a half-registered consumer that the next call would
        register again (RabbitMQ closes the channel on a second one).
        """
        self.replies_wanted = True
        channel = await self._usable_channel(timeout, "start the reply consumer")
        if self._replies_on is channel:
            return
        task = self._replies_task
        if task is None or task.done():
            task = self._replies_task = asyncio.ensure_future(self._start_bounded(channel))
            task.add_done_callback(_seen)
        async with asyncio.timeout(timeout):
            await asyncio.shield(task)

    async def _start_bounded(self, channel: Channel) -> None:
        try:
            with translate_errors(self.link.masked_url, "start the reply consumer"):
                async with asyncio.timeout(self.link.connect_timeout):
                    await self._start_replies(channel)
        except TimeoutError:
            raise ConnectionLost(
                f"start the reply consumer: no answer from {self.link.masked_url} within "
                f"{self.link.connect_timeout:g}s"
            ) from None

    async def _start_replies(self, channel: Channel) -> None:
        async with self._replies_lock:
            if self._replies_on is channel:
                return

            def deliver(message: Message) -> None:
                self._deliver_reply(envelope_of(message))

            await channel.basic_consume(DIRECT_REPLY_TO, deliver, no_ack=True)
            self._replies_on = channel

    # -- publishing ----------------------------------------------------------------

    async def _usable_channel(self, timeout: float | None, what: str) -> Channel:
        link = self.link
        if link.closing:
            raise ConnectionLost(f"{what}: the connection to {link.masked_url} is closed")
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await link.connected.wait()
                    channel = self.channel
                    if channel is None:
                        raise ConnectionLost(f"{what}: not connected to {link.masked_url}")
                    if channel is not self._lost_channel and channel.is_open:
                        return channel
                    self._channel_lost(channel, link.connection, "closed")
                    reopened = await self._reopen(channel)
                    if reopened.is_open:
                        return reopened
        except TimeoutError:
            state = "blocked by the broker" if link.blocked else "not connected"
            raise PublishFailed(f"{what}: {state} ({link.masked_url}) for {timeout:g}s") from None

    async def publish(
        self,
        envelope: Envelope,
        *,
        mandatory: bool,
        timeout: float | None,
        answered: asyncio.Future[Any] | None = None,
    ) -> None:
        """Publish and wait for the confirm (within ``timeout`` seconds, if given), or
        until ``answered`` is done (see ``Transport.publish``)."""
        link = self.link
        channel = self.channel
        key = envelope.routing_key
        if (
            not link.connected.is_set()
            or channel is None
            or channel is self._lost_channel
            or not channel.is_open
        ):
            channel = await self._usable_channel(timeout, f"publish to {key!r}")
        message_id = envelope.message_id or new_id()
        data = publish_frames(
            channel.number,
            envelope,
            mandatory=mandatory,
            max_body_frame=channel.max_body_frame,
            message_id=message_id,
        )
        tag, confirmation = channel.expect_confirm(message_id, mandatory=mandatory)
        channel.write(data)
        if timeout is not None:
            self._deadlines.add(confirmation, timeout)
        if answered is not None:
            answered.add_done_callback(partial(_answered, confirmation))
        try:
            await confirmation
        except TimeoutError:
            state = "it is blocked by the broker" if link.blocked else "no confirm"
            raise PublishFailed(
                f"publish to {key!r}: {state} ({link.masked_url}) within {timeout:g}s"
            ) from None
        except Nacked:
            self._nacked(channel)
            raise PublishFailed(f"the broker refused the message to {key!r}") from None
        except Exception as exc:
            if not channel.is_open:
                self._channel_lost(channel, link.connection, close_cause(exc))
            raise publish_failure(exc, key, link.masked_url) from None
        finally:
            if timeout is not None:
                self._deadlines.discard(confirmation)
            if mandatory:
                channel.forget_return(message_id, tag)
        self._nacks.acked()

    def _nacked(self, channel: Channel) -> None:
        if channel is self.channel and self._nacks.nacked():
            self._channel_lost(
                channel, self.link.connection, f"{self._nacks.count} publishes in a row were nacked"
            )


def _answered(confirmation: asyncio.Future[bool], answer: asyncio.Future[Any]) -> None:
    # The request's reply came: stop waiting for the confirm (a reply that failed, as
    # when the connection is lost, leaves the wait to the confirm). The channel skips a
    # confirm future already done when the broker's ack arrives.
    if not confirmation.done() and not answer.cancelled() and answer.exception() is None:
        confirmation.set_result(True)


def _seen(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _retire(channel: Channel) -> None:
    pending = channel.pending_confirms()
    if pending:
        await asyncio.wait(pending, timeout=_RETIRE_WAIT)
    await channel.close()
