"""vincent's own AMQP 0-9-1 connection: the sans-io :class:`.Machine` driven by an
``asyncio.Protocol``.

The protocol reads what the socket gives it (``data_received``: no reader task, no
per-frame awaits), hands it to the machine and dispatches the events: confirms to their
channel's futures, deliveries to their consumer's callback, answers to the waiting
request. Writes of a whole loop iteration (publishes, acks, requests, of every channel)
leave in one ``transport.write`` (:class:`.Outbox`).

The protocol also keeps time: it sends a heartbeat every half interval and gives the
connection up after 3 × (heartbeat + 1) seconds without a byte from the broker, as
docs/reliability.md says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
from collections.abc import Callable
from typing import Any, cast

from vincent_core._version import __version__
from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp import machine as proto
from vincent_core.transport.amqp.channel import Channel
from vincent_core.transport.amqp.endpoint import Endpoint, parse_url
from vincent_core.transport.amqp.exceptions import AMQPError, ChannelClosed, ConnectionClosed
from vincent_core.transport.amqp.machine import (
    Blocked,
    Closed,
    Confirm,
    Credentials,
    Machine,
    Message,
    MethodReceived,
    Opened,
    ProtocolError,
    Unblocked,
)
from vincent_core.transport.amqp.outbox import Outbox

__all__ = ["Connection", "connect"]

log = logging.getLogger("vincent.transport")

_DELIVER = (60, 60)
_RETURN = (60, 50)
#: missed heartbeat intervals (each heartbeat + 1 s) before the connection is given up
_MISSED_HEARTBEATS = 3


class Connection(asyncio.Protocol):
    """One AMQP connection. Make one with :func:`connect`."""

    def __init__(self, credentials: Credentials, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.machine = Machine(credentials)
        self.transport: asyncio.Transport | None = None
        self.channels: dict[int, Channel] = {}
        #: done when the connection is closed: ``None`` for our own close, the reason
        #: (:class:`.ConnectionClosed`) otherwise
        self.closing: asyncio.Future[None] = loop.create_future()
        self.opened: asyncio.Future[Opened] = loop.create_future()
        self.outbox = Outbox(self)
        self.frame_max = 131072
        self.heartbeat = 0
        self.server_properties: dict[str, Any] = {}
        #: called with (blocked, reason) on ``connection.blocked``/``unblocked``
        self.on_blocked: Callable[[bool, str], None] | None = None
        self.blocked = False
        self._last_read = loop.time()
        self._heartbeat_timer: asyncio.TimerHandle | None = None
        self._opening: dict[int, asyncio.Future[Channel]] = {}
        #: done once the socket is closed (asyncio closes it a loop iteration later)
        self._socket_closed: asyncio.Future[None] = loop.create_future()

    # -- state ---------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the connection is closed or closing."""
        return self.closing.done() or not self.machine.usable

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports (the [speed] extra) have
        # asyncio.Transport's methods without deriving from it.
        self.transport = cast(asyncio.Transport, transport)
        self._send_protocol_output()

    def data_received(self, data: bytes) -> None:
        self._last_read = self.loop.time()
        try:
            events = self.machine.receive(data)
        except ProtocolError as exc:
            self._abort(ConnectionClosed(0, str(exc)))
            return
        for event in events:
            kind = type(event)
            if kind is Message:
                self._message(event)  # type: ignore[arg-type]
            elif kind is Confirm:
                channel = self.channels.get(event.channel)  # type: ignore[union-attr]
                if channel is not None:
                    channel.confirmed(event.delivery_tag, event.multiple, event.ack)  # type: ignore[union-attr]
            else:
                self._event(event)  # type: ignore[arg-type]
        if self.machine.outgoing:
            self._send_protocol_output()

    def _message(self, message: Message) -> None:
        channel = self.channels.get(message.channel)
        if channel is None:
            return
        if message.kind == _DELIVER:
            channel.deliver(message)
        elif message.kind == _RETURN:
            channel.returned(message)
        else:
            channel.answered(message)

    def _event(
        self, event: Opened | MethodReceived | proto.ChannelClosed | Closed | Blocked | Unblocked
    ) -> None:
        if isinstance(event, MethodReceived):
            if event.method.name == "Channel.OpenOk":
                opening = self._opening.pop(event.channel, None)
                opened = self.channels.get(event.channel)
                if opening is not None and not opening.done() and opened is not None:
                    opening.set_result(opened)
                elif opened is not None:
                    # Its opener gave up (a deadline): close it, or it stays open on
                    # the broker and its number taken for the life of the connection.
                    opened.close_now()
                return
            channel = self.channels.get(event.channel)
            if channel is not None:
                channel.answered(event.method)
        elif isinstance(event, proto.ChannelClosed):
            channel = self.channels.pop(event.channel, None)
            opening = self._opening.pop(event.channel, None)
            lost = (
                ChannelClosed(event.reply_code, event.reply_text, event.class_id, event.method_id)
                if event.by_broker
                else None
            )
            if opening is not None and not opening.done():
                opening.set_exception(lost or ChannelClosed(504, "closed while opening"))
            if channel is not None:
                channel.closed(lost)
        elif isinstance(event, Opened):
            self.frame_max = event.frame_max
            self.heartbeat = event.heartbeat
            self.server_properties = event.server_properties
            if not self.opened.done():
                self.opened.set_result(event)
            self._schedule_heartbeat()
        elif isinstance(event, Closed):
            reason = (
                ConnectionClosed(
                    event.reply_code,
                    event.reply_text,
                    event.class_id,
                    event.method_id,
                    stage=event.stage,
                )
                if event.by_broker
                else None
            )
            self._send_protocol_output()
            self._finish(reason)
            if self.transport is not None:
                self.transport.close()
        elif isinstance(event, Blocked | Unblocked):
            self.blocked = isinstance(event, Blocked)
            if self.on_blocked is not None:
                self.on_blocked(self.blocked, event.reason if isinstance(event, Blocked) else "")

    def connection_lost(self, exc: Exception | None) -> None:
        text = f"the connection was lost ({exc})" if exc else "the broker closed the connection"
        stage = ""
        if not self.opened.done():
            # A broker without authentication_failure_close drops the socket on a bad
            # login (or a refused vhost): the stage says which.
            stage = {"tune": "login", "open": "open"}.get(self.machine.state, "")
            text = f"the broker closed the connection during the handshake ({stage or 'start'})"
        self._finish(ConnectionClosed(0, text, stage=stage))
        self.machine.lost()
        if not self._socket_closed.done():
            self._socket_closed.set_result(None)

    # -- life ------------------------------------------------------------------------

    def _finish(self, reason: ConnectionClosed | None) -> None:
        """The connection is over: fail everything that waits on it, once."""
        if self.closing.done():
            return
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
        failure = reason or ConnectionClosed(200, "the connection was closed")
        if not self.opened.done():
            self.opened.set_exception(failure)
            self.opened.exception()
        for opening in self._opening.values():
            if not opening.done():
                opening.set_exception(failure)
        self._opening.clear()
        for channel in list(self.channels.values()):
            channel.closed(failure)
        self.channels.clear()
        self.outbox.abandon()
        if reason is None:
            self.closing.set_result(None)
        else:
            self.closing.set_exception(reason)
            self.closing.exception()  # retrieved: a connection nobody watches may end

    def _abort(self, reason: ConnectionClosed) -> None:
        self._finish(reason)
        self.machine.lost()
        if self.transport is not None:
            self.transport.abort()

    def _send_protocol_output(self) -> None:
        # What was written before goes first: a channel.close of ours must not follow
        # the close-ok that answers the broker's crossing close (504 on RabbitMQ).
        self.outbox.send()
        machine = self.machine
        if machine.outgoing and self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes(machine.outgoing))
        machine.outgoing.clear()

    def _schedule_heartbeat(self) -> None:
        if self.heartbeat > 0 and not self.closing.done():
            self._heartbeat_timer = self.loop.call_later(self.heartbeat / 2, self._beat)

    def _beat(self) -> None:
        silent = self.loop.time() - self._last_read
        if silent > _MISSED_HEARTBEATS * (self.heartbeat + 1):
            log.debug("no heartbeat from the broker for %.1fs", silent)
            self._abort(ConnectionClosed(0, f"missed heartbeats from the broker ({silent:.0f}s)"))
            return
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(Machine.heartbeat_frame())
        self._schedule_heartbeat()

    # -- what the transport uses -----------------------------------------------------

    def write(self, channel: Channel | None, data: bytes | Settlements) -> None:
        """Queue frames to send at the end of this loop iteration (in order, with the
        other writes of the iteration)."""
        self.outbox.write(channel, data)

    def send_now(self, data: bytes) -> None:
        """Write to the socket now (the outbox calls this once per iteration)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close_channel_frame(self, channel: Channel) -> bytes:
        """The ``channel.close`` frame for ``channel`` (the machine stops reading it)."""
        return self.machine.close_channel(channel.number)

    async def channel(self) -> Channel:
        """Open a channel."""
        if self.is_closed:
            raise self._closed_error()
        try:
            number, frame = self.machine.open_channel()
        except ProtocolError as exc:  # all channel numbers taken
            raise ChannelClosed(0, str(exc)) from None
        self.channels[number] = Channel(self, number)
        opening: asyncio.Future[Channel] = self.loop.create_future()
        self._opening[number] = opening
        self.write(None, frame)
        # Cancelled with its caller, the future stays in _opening: its open-ok closes it.
        return await opening

    def _closed_error(self) -> AMQPError:
        if self.closing.done() and not self.closing.cancelled():
            exc = self.closing.exception()
            if isinstance(exc, AMQPError):
                return exc
        return ConnectionClosed(0, "the connection is closed")

    async def close(self, timeout: float = 2.0) -> None:
        """Close cleanly (``connection.close``, then its ``close-ok``) within ``timeout``;
        a broker that does not answer has its socket dropped."""
        if self.closing.done():
            await self.drop()
            return
        self.outbox.send()
        self.machine.close()
        self._send_protocol_output()
        if self.machine.state != "closed":  # not mid-handshake: wait for close-ok
            with contextlib.suppress(TimeoutError, AMQPError):
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self.closing)
        self._finish(None)
        await self.drop()

    async def drop(self) -> None:
        """Close the socket at once, and wait (a moment) until asyncio has."""
        if self.transport is not None:
            self.transport.abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.shield(self._socket_closed)


async def connect(
    url: str,
    *,
    client_properties: dict[str, Any] | None = None,
    endpoint: Endpoint | None = None,
) -> Connection:
    """Connect to ``url`` and complete the handshake (the caller bounds the wait).

    Raises ``ValueError`` for a bad URL, ``OSError`` when the TCP (or TLS) connection
    fails, :class:`.ConnectionClosed` when the broker refuses the login or the vhost
    (``stage``, ``reply_code``) or drops the handshake, and ``ssl.SSLError``.
    """
    endpoint = endpoint or parse_url(url)
    properties: dict[str, Any] = {
        "product": "vincent",
        "version": __version__,
        "platform": f"Python {platform.python_version()}",
    }
    if endpoint.name:
        properties["connection_name"] = endpoint.name
    properties.update(client_properties or {})
    credentials = Credentials(
        user=endpoint.credentials.user,
        password=endpoint.credentials.password,
        vhost=endpoint.credentials.vhost,
        mechanism=endpoint.credentials.mechanism,
        heartbeat=endpoint.credentials.heartbeat,
        frame_max=endpoint.credentials.frame_max,
        channel_max=endpoint.credentials.channel_max,
        client_properties=properties,
    )
    loop = asyncio.get_running_loop()
    context = endpoint.ssl_context()
    transport, connection = await loop.create_connection(
        lambda: Connection(credentials, loop),
        endpoint.host,
        endpoint.port,
        ssl=context,
        server_hostname=endpoint.host if context is not None else None,
    )
    try:
        await connection.opened
    except BaseException:
        connection.machine.lost()
        transport.abort()
        # The socket closes in the next iteration: let it, unless we are cancelled.
        with contextlib.suppress(BaseException):
            await asyncio.sleep(0)
        raise
    return connection
