"""An AMQP 0-9-1 client connection as a state machine: bytes in, events out (sans-io).

No socket, no loop, no clock: :class:`Machine` is fed what the broker sent and returns
what happened (:data:`Event`\\ s), and it queues what the protocol itself must answer
(the handshake, ``close-ok``, ``flow-ok``) in :attr:`Machine.outgoing` for its driver
to write. The driver (:mod:`.connection`: an ``asyncio.Protocol``) owns time
(heartbeats, deadlines) and the futures waiting for answers.

The frames of every message are on the hot path: ``basic.deliver``, ``basic.ack`` and
``basic.nack`` and the content header are read by vincent's own decoder
(:mod:`vincent_core.transport.framereader`, shared with the one-shot path); every other
method goes through pamqp's. A content-bearing method (deliver, get-ok, return) and its
header and body frames become one :class:`Message`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from pamqp import commands as spec
from pamqp import frame as pamqp_frame
from pamqp.base import Frame as PamqpMethod
from pamqp.exceptions import PAMQPException

from vincent_core.transport.framereader import (
    ContentHeader,
    decode_content_header,
    read_short_string,
)

__all__ = [
    "PROTOCOL_HEADER",
    "Blocked",
    "ChannelClosed",
    "Closed",
    "Confirm",
    "Credentials",
    "Event",
    "Machine",
    "Message",
    "MethodReceived",
    "Opened",
    "ProtocolError",
    "Unblocked",
    "encode_method",
]

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

_head = struct.Struct(">BHI")
_ids = struct.Struct(">HH")
_u64 = struct.Struct(">Q")
_u64_bits = struct.Struct(">QB")
_method_head = struct.Struct(">HH")

_FRAME_METHOD, _FRAME_HEADER, _FRAME_BODY, _FRAME_HEARTBEAT = 1, 2, 3, 8
_FRAME_END = 0xCE

_DELIVER = (60, 60)
_GET_OK = (60, 71)
_RETURN = (60, 50)
_ACK = (60, 80)
_NACK = (60, 120)

#: what the client tells the broker it understands (RabbitMQ's client capabilities)
CAPABILITIES: dict[str, Any] = {
    "publisher_confirms": True,
    "consumer_cancel_notify": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "connection.blocked": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
}


class ProtocolError(Exception):
    """The broker sent something AMQP 0-9-1 does not allow here (or not AMQP at all)."""


def encode_method(channel: int, method: PamqpMethod) -> bytes:
    """One method frame, encoded by pamqp (the methods off the hot path)."""
    return pamqp_frame.marshal(method, channel)


# -- events ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """``connection.open-ok``: the connection is usable, with these tuned limits."""

    channel_max: int
    frame_max: int
    heartbeat: int
    server_properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MethodReceived:
    """A method that is not part of a message, a confirm or the connection's life: the
    answer to a synchronous request (``queue.declare-ok``), ``channel.open-ok``,
    ``basic.cancel`` from the broker..."""

    channel: int
    method: PamqpMethod


class Message:
    """A message the broker sent: a delivery to a consumer, a ``basic.get`` answer or a
    returned (unroutable mandatory) publish, with its header and whole body."""

    __slots__ = (
        "body",
        "channel",
        "consumer_tag",
        "delivery_tag",
        "exchange",
        "header",
        "kind",
        "message_count",
        "redelivered",
        "reply_code",
        "reply_text",
        "routing_key",
    )

    def __init__(self, channel: int, kind: tuple[int, int]) -> None:
        self.channel = channel
        #: (class id, method id): deliver (60, 60), get-ok (60, 71) or return (60, 50)
        self.kind = kind
        self.consumer_tag = ""
        self.delivery_tag = 0
        self.redelivered = False
        self.exchange = ""
        self.routing_key = ""
        self.message_count = 0
        self.reply_code = 0
        self.reply_text = ""
        self.header: ContentHeader | None = None
        self.body = b""

    @property
    def properties(self) -> dict[str, Any]:
        """The basic properties that were set (snake_case names, as the Envelope's)."""
        return self.header.properties if self.header is not None else {}

    @property
    def headers(self) -> dict[str, Any]:
        """The ``headers`` table (empty when none was sent)."""
        return self.header.headers if self.header is not None else {}


@dataclass(frozen=True, slots=True)
class Confirm:
    """A publisher confirm: ``basic.ack`` (``ack``) or ``basic.nack`` of ``delivery_tag``
    (and every earlier one, with ``multiple``)."""

    channel: int
    delivery_tag: int
    multiple: bool
    ack: bool


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """The broker closed a channel (its ``close-ok`` is queued), or answered our
    ``channel.close`` (``by_broker`` False)."""

    channel: int
    reply_code: int
    reply_text: str
    class_id: int = 0
    method_id: int = 0
    by_broker: bool = True


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection is closed: the broker closed it (its ``close-ok`` is queued), or
    answered our ``connection.close`` (``by_broker`` False). ``stage`` says where the
    handshake was when the broker refused it (``login``, ``open``), ``""`` after it."""

    reply_code: int
    reply_text: str
    class_id: int = 0
    method_id: int = 0
    by_broker: bool = True
    stage: str = ""


@dataclass(frozen=True, slots=True)
class Blocked:
    """``connection.blocked``: the broker stopped reading publishes (a resource alarm)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unblocked:
    """``connection.unblocked``: the alarm is over."""


Event = Opened | MethodReceived | Message | Confirm | ChannelClosed | Closed | Blocked | Unblocked


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who connects where, and what the client asks for in ``tune``."""

    user: str = "guest"
    password: str = "guest"
    vhost: str = "/"
    #: ``PLAIN`` (user and password) or ``EXTERNAL`` (the TLS client certificate)
    mechanism: str = "PLAIN"
    #: seconds; ``None`` takes the broker's proposal, ``0`` turns heartbeats off
    heartbeat: int | None = None
    #: 0 takes the broker's proposal
    frame_max: int = 0
    channel_max: int = 0
    client_properties: dict[str, Any] = field(default_factory=dict)


def _negotiate(ours: int | None, theirs: int) -> int:
    """A tune value: the smaller of both where both name one (0 means "no limit")."""
    if ours is None:
        return theirs
    if ours == 0 or theirs == 0:
        return max(ours, theirs)
    return min(ours, theirs)


class Machine:
    """One client connection's protocol state, from the protocol header to ``close-ok``.

    Feed it with :meth:`receive`; write :attr:`outgoing` out after each call (and after
    :meth:`close`). Channel numbers are handed out by :meth:`open_channel` and reused
    once the channel's close is complete.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        #: what the protocol itself must send next (the driver writes and clears it)
        self.outgoing = bytearray(PROTOCOL_HEADER)
        #: ``start``, ``tune``, ``open``, ``open-ok`` (usable), ``closing``, ``closed``
        self.state = "start"
        self.channel_max = 2047
        self.frame_max = 131072
        self.heartbeat = 0
        self._buffer = bytearray()
        self._partial: dict[int, Message] = {}
        self._body_parts: dict[int, list[bytes]] = {}
        self._channels: set[int] = set()
        #: channels whose close we sent (or whose close-ok we queued): frames for them
        #: are dropped until the number is free again
        self._closing_channels: set[int] = set()
        #: channels whose close crossed the broker's (its close-ok to ours is still due)
        self._crossed: set[int] = set()
        self._next_channel = 1
        self._server_properties: dict[str, Any] = {}

    # -- what the client does --------------------------------------------------------

    @property
    def usable(self) -> bool:
        """True between ``open-ok`` and the start of a close."""
        return self.state == "open-ok"

    def open_channel(self) -> tuple[int, bytes]:
        """A free channel number, and the ``channel.open`` to send on it."""
        if not self.usable:
            raise ProtocolError("the connection is not open")
        limit = self.channel_max or 65535
        for _ in range(limit):
            number = self._next_channel
            self._next_channel = number % limit + 1
            if number not in self._channels and number not in self._closing_channels:
                self._channels.add(number)
                return number, encode_method(number, spec.Channel.Open())
        raise ProtocolError(f"all {limit} channels are in use")

    def channel_open(self, number: int) -> bool:
        """True while frames may be sent on channel ``number``."""
        return number in self._channels and self.state == "open-ok"

    def close_channel(self, number: int, reply_code: int = 200, text: str = "") -> bytes:
        """The ``channel.close`` to send (``b""`` when it is closed or closing already)."""
        if number not in self._channels or self.state != "open-ok":
            return b""
        self._channels.discard(number)
        self._closing_channels.add(number)
        return encode_method(
            number,
            spec.Channel.Close(reply_code=reply_code, reply_text=text, class_id=0, method_id=0),
        )

    def close(self, reply_code: int = 200, text: str = "bye") -> None:
        """Start closing: ``connection.close`` goes into :attr:`outgoing`."""
        if self.state in ("closing", "closed"):
            return
        if self.state != "open-ok":
            self.state = "closed"  # nothing to say to a broker mid-handshake
            return
        self.state = "closing"
        self.outgoing += encode_method(
            0,
            spec.Connection.Close(reply_code=reply_code, reply_text=text, class_id=0, method_id=0),
        )

    def lost(self) -> None:
        """The socket is gone: nothing more will be read or sent."""
        self.state = "closed"
        self._channels.clear()
        self._closing_channels.clear()
        self._crossed.clear()
        self._partial.clear()
        self._body_parts.clear()

    @staticmethod
    def heartbeat_frame() -> bytes:
        """A heartbeat frame."""
        return b"\x08\x00\x00\x00\x00\x00\x00\xce"

    # -- what the broker does --------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Bytes from the broker in; what they meant out. Raises :class:`ProtocolError`
        for what no broker may send (the driver then drops the connection)."""
        buffer = self._buffer
        buffer += data
        events: list[Event] = []
        size = len(buffer)
        position = 0
        while size - position >= 8:
            if position == 0 and self.state == "start" and buffer[:4] == b"AMQP":
                raise ProtocolError(
                    "the server does not speak AMQP 0-9-1 (it answered with protocol "
                    f"header {bytes(buffer[:8])!r})"
                )
            kind, channel, length = _head.unpack_from(buffer, position)
            end = position + 7 + length
            if end >= size:
                break
            if buffer[end] != _FRAME_END:
                raise ProtocolError("malformed frame from the broker (no frame end)")
            payload = bytes(buffer[position + 7 : end])
            position = end + 1
            if kind == _FRAME_METHOD:
                self._method(channel, payload, events)
            elif kind == _FRAME_HEADER:
                self._header(channel, payload, events)
            elif kind == _FRAME_BODY:
                self._body(channel, payload, events)
            elif kind != _FRAME_HEARTBEAT:
                raise ProtocolError(f"unknown frame type {kind} from the broker")
        if position:
            del buffer[:position]
        return events

    def _method(self, channel: int, payload: bytes, events: list[Event]) -> None:
        ids = _ids.unpack_from(payload)
        if channel in self._closing_channels and ids not in ((20, 40), (20, 41)):
            return  # after our close: only its close-ok (or a crossing close) counts
        if ids == _DELIVER:
            message = Message(channel, ids)
            message.consumer_tag, offset = read_short_string(payload, 4)
            message.delivery_tag, redelivered = _u64_bits.unpack_from(payload, offset)
            message.redelivered = bool(redelivered & 1)
            message.exchange, offset = read_short_string(payload, offset + 9)
            message.routing_key, _ = read_short_string(payload, offset)
            self._partial[channel] = message
            return
        if ids in (_ACK, _NACK):
            tag, bits = _u64_bits.unpack_from(payload, 4)
            events.append(Confirm(channel, tag, bool(bits & 1), ids == _ACK))
            return
        try:
            method = self._decode(payload)
        except (PAMQPException, KeyError, struct.error, ValueError) as exc:
            raise ProtocolError(f"undecodable method {ids} from the broker: {exc}") from None
        if channel == 0:
            self._connection_method(method, events)
            return
        if isinstance(method, spec.Basic.GetOk):
            message = Message(channel, _GET_OK)
            message.delivery_tag = method.delivery_tag or 0
            message.redelivered = bool(method.redelivered)
            message.exchange = method.exchange or ""
            message.routing_key = method.routing_key or ""
            message.message_count = method.message_count or 0
            self._partial[channel] = message
        elif isinstance(method, spec.Basic.Return):
            message = Message(channel, _RETURN)
            message.reply_code = method.reply_code or 0
            message.reply_text = method.reply_text or ""
            message.exchange = method.exchange or ""
            message.routing_key = method.routing_key or ""
            self._partial[channel] = message
        elif isinstance(method, spec.Channel.Close):
            if channel in self._closing_channels:
                # Crossing closes: the broker still answers ours with a close-ok, and
                # the number is not free before that.
                self._crossed.add(channel)
                self._partial.pop(channel, None)
                self._body_parts.pop(channel, None)
            else:
                self._forget_channel(channel)
            self.outgoing += encode_method(channel, spec.Channel.CloseOk())
            events.append(
                ChannelClosed(
                    channel,
                    method.reply_code or 0,
                    method.reply_text or "",
                    method.class_id or 0,
                    method.method_id or 0,
                )
            )
        elif isinstance(method, spec.Channel.CloseOk):
            self._forget_channel(channel)
            if channel in self._crossed:
                self._crossed.discard(channel)  # reported with the broker's close
            else:
                events.append(ChannelClosed(channel, 200, "closed", by_broker=False))
        elif isinstance(method, spec.Channel.Flow):
            self.outgoing += encode_method(channel, spec.Channel.FlowOk(active=method.active))
        else:
            events.append(MethodReceived(channel, method))

    def _forget_channel(self, channel: int) -> None:
        self._channels.discard(channel)
        self._closing_channels.discard(channel)
        self._partial.pop(channel, None)
        self._body_parts.pop(channel, None)

    @staticmethod
    def _decode(payload: bytes) -> PamqpMethod:
        (index,) = struct.unpack_from(">I", payload)
        method: PamqpMethod = spec.INDEX_MAPPING[index]()
        method.unmarshal(payload[4:])
        return method

    def _header(self, channel: int, payload: bytes, events: list[Event]) -> None:
        if channel in self._closing_channels:
            return
        message = self._partial.get(channel)
        if message is None or message.header is not None:
            raise ProtocolError(f"a content header on channel {channel} without its method")
        message.header = header = decode_content_header(payload)
        if header.body_size == 0:
            del self._partial[channel]
            events.append(message)
        else:
            self._body_parts[channel] = []

    def _body(self, channel: int, payload: bytes, events: list[Event]) -> None:
        if channel in self._closing_channels:
            return
        message = self._partial.get(channel)
        parts = self._body_parts.get(channel)
        if message is None or message.header is None or parts is None:
            raise ProtocolError(f"a body frame on channel {channel} without its header")
        parts.append(payload)
        expected = message.header.body_size
        if len(parts) == 1 and len(payload) == expected:
            message.body = payload
        else:
            received = sum(map(len, parts))
            if received < expected:
                return
            if received > expected:
                raise ProtocolError(f"a body on channel {channel} longer than its header says")
            message.body = b"".join(parts)
        del self._partial[channel]
        del self._body_parts[channel]
        events.append(message)

    def _connection_method(self, method: PamqpMethod, events: list[Event]) -> None:
        credentials = self.credentials
        if isinstance(method, spec.Connection.Start):
            if self.state != "start":
                raise ProtocolError("connection.start out of turn")
            mechanisms = (method.mechanisms or "").split()
            if credentials.mechanism not in mechanisms:
                raise ProtocolError(
                    f"the broker does not offer the {credentials.mechanism} login "
                    f"(it offers: {', '.join(mechanisms) or 'none'})"
                )
            response = (
                f"\0{credentials.user}\0{credentials.password}"
                if credentials.mechanism == "PLAIN"
                else ""
            )
            properties = dict(credentials.client_properties)
            properties["capabilities"] = dict(CAPABILITIES)
            self.outgoing += encode_method(
                0,
                spec.Connection.StartOk(
                    client_properties=properties,
                    mechanism=credentials.mechanism,
                    response=response,
                ),
            )
            self._server_properties = dict(method.server_properties or {})
            self.state = "tune"
        elif isinstance(method, spec.Connection.Tune):
            if self.state != "tune":
                raise ProtocolError("connection.tune out of turn")
            self.channel_max = _negotiate(credentials.channel_max or None, method.channel_max)
            self.channel_max = self.channel_max or 65535
            self.frame_max = _negotiate(credentials.frame_max or None, method.frame_max) or 131072
            # A client that asks for no heartbeat gets none (0 is not "no opinion").
            heartbeat = credentials.heartbeat
            self.heartbeat = 0 if heartbeat == 0 else _negotiate(heartbeat, method.heartbeat)
            self.outgoing += encode_method(
                0,
                spec.Connection.TuneOk(
                    channel_max=self.channel_max,
                    frame_max=self.frame_max,
                    heartbeat=self.heartbeat,
                ),
            )
            self.outgoing += encode_method(0, spec.Connection.Open(virtual_host=credentials.vhost))
            self.state = "open"
        elif isinstance(method, spec.Connection.OpenOk):
            if self.state != "open":
                raise ProtocolError("connection.open-ok out of turn")
            self.state = "open-ok"
            events.append(
                Opened(self.channel_max, self.frame_max, self.heartbeat, self._server_properties)
            )
        elif isinstance(method, spec.Connection.Close):
            stage = {"tune": "login", "open": "open", "start": "login"}.get(self.state, "")
            if self.state != "closing":  # crossing closes: our close-ok answers theirs
                self.outgoing += encode_method(0, spec.Connection.CloseOk())
            self.lost()
            events.append(
                Closed(
                    method.reply_code or 0,
                    method.reply_text or "",
                    method.class_id or 0,
                    method.method_id or 0,
                    stage=stage,
                )
            )
        elif isinstance(method, spec.Connection.CloseOk):
            self.lost()
            events.append(Closed(200, "closed", by_broker=False))
        elif isinstance(method, spec.Connection.Blocked):
            events.append(Blocked(method.reason or ""))
        elif isinstance(method, spec.Connection.Unblocked):
            events.append(Unblocked())
        elif isinstance(method, spec.Connection.Secure):
            raise ProtocolError("the broker asked for a SASL challenge vincent does not support")
        else:
            events.append(MethodReceived(0, method))
