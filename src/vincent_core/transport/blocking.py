"""One confirmed publish, or one call, over a plain blocking socket: the one-shot
``vincent cast`` and ``vincent call``.

A process that sends one message and exits spends most of its life importing (asyncio,
pamqp: ~60 ms) and in round trips it does not need. This speaks just enough
AMQP 0-9-1 with the standard library and vincent's own frame codec (:mod:`.frames`
to write, :mod:`.framereader` to read): the handshake, a channel in confirm mode, the
publish (the very frames the async path sends), and a clean close, with the client's
frames after ``tune`` sent in one write.

A call adds what the async client does: a consumer on ``amq.rabbitmq.reply-to`` on the
publishing channel (direct reply-to needs both on one channel), the mandatory publish,
and the reply read within the call's deadline, which counts from the start. On a
second channel a passive declare of the key's queue says at send time whether anything
consumes it.

The guarantees stay: :func:`publish_once` returns only after the broker's
``basic.ack``; both raise :class:`NotSent` when the broker certainly does not have the
message (it refused the connection, the login, the vhost or the exchange), so that the
caller may redo the whole thing on the full path, which reports such failures in
detail. Once the publish may have been taken, failures are ``VincentError``s.
"""

from __future__ import annotations

import socket
import struct
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from vincent_core.config import DEFAULT_MAX_BODY, mask_url, resolve_connect_timeout
from vincent_core.errors import (
    CallTimeout,
    ConnectionFailed,
    ConnectionLost,
    MessageTooLarge,
    NoRoute,
    PublishFailed,
)
from vincent_core.transport.framereader import (
    Frame,
    FrameReader,
    decode_content_header,
    read_short_string,
)
from vincent_core.transport.frames import long_string, method_frame, publish_frames, short_string
from vincent_core.wire.envelope import Envelope

__all__ = ["NotSent", "QueueState", "Target", "call_once", "parse_url", "publish_once"]

_PROTOCOL = b"AMQP\x00\x00\x09\x01"
_CHANNEL = 1
_CHECK_CHANNEL = 2
_EMPTY_TABLE = b"\x00\x00\x00\x00"
_DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
# Codes with which the broker refuses before taking anything: access refused, not
# found (vhost, exchange), not allowed.
_REFUSALS = {403, 404, 530}
_PRECONDITION_FAILED = 406


class NotSent(Exception):
    """The broker does not have the message; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect, from an ``amqp://`` URL."""

    host: str
    port: int
    user: str
    password: str
    vhost: str


@dataclass(frozen=True, slots=True)
class QueueState:
    """What the passive declare of a call's key found: its queue's consumers."""

    queue: str
    consumers: int


def parse_url(url: str) -> Target | None:
    """The target of a plain ``amqp://`` URL without options; ``None`` for anything else
    (TLS, several URLs, query options), which the full path handles."""
    if not url.lower().startswith("amqp://") or "," in url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.query or parts.fragment:
        return None
    try:
        port = parts.port or 5672
    except ValueError:
        return None
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return Target(
        host=parts.hostname or "localhost",
        port=port,
        user=urllib.parse.unquote(parts.username or "guest"),
        password=urllib.parse.unquote(parts.password or "guest"),
        vhost=urllib.parse.unquote(path) or "/",
    )


class _Connection:
    """Frames over a blocking socket, each read bounded by a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.reader = FrameReader()
        self.deadline = deadline

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def frame(self) -> Frame:
        while True:
            frame = self.reader.next_frame()
            if frame is not None:
                return frame
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the broker closed the connection")
            self.reader.feed(data)

    def method(self) -> Frame:
        """The next method frame; content frames (a returned message's) are skipped."""
        while True:
            frame = self.frame()
            if frame.kind == 1:
                return frame


def _reply_code(arguments: bytes) -> tuple[int, str]:
    code = struct.unpack_from(">H", arguments)[0]
    return code, read_short_string(arguments, 2)[0]


def _handshake(conn: _Connection, target: Target, name: str) -> tuple[bytes, int]:
    """Up to ``tune``; returns the frames that open the connection, the channel and
    confirm mode (sent together with what follows: the broker handles them in order)."""
    conn.send(_PROTOCOL)
    if conn.method().method != (10, 10):  # connection.start
        raise NotSent("not an AMQP 0-9-1 broker")
    properties = (
        short_string("product")
        + b"S"
        + long_string(b"vincent")
        + short_string("connection_name")
        + b"S"
        + long_string(name.encode())
    )
    login = f"\0{target.user}\0{target.password}".encode()
    start_ok = long_string(properties) + short_string("PLAIN") + long_string(login)
    conn.send(method_frame(0, 10, 11, start_ok + short_string("en_US")))
    tune = conn.method()
    if tune.method != (10, 30):  # connection.tune (else: login refused)
        raise NotSent("the broker refused the login")
    channel_max, frame_max, _heartbeat = struct.unpack_from(">HIH", tune.arguments)
    frame_max = frame_max or 131072
    # No heartbeats: the connection lives for one round trip.
    return (
        method_frame(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
        + method_frame(0, 10, 40, short_string(target.vhost) + short_string("") + b"\x00")
        + method_frame(_CHANNEL, 20, 10, short_string(""))
        + method_frame(_CHANNEL, 85, 10, b"\x00")
    ), frame_max


def _connect(
    url: str, envelope: Envelope, timeout: float, name: str
) -> tuple[socket.socket, _Connection, bytes, int]:
    target = parse_url(url)
    if target is None:
        raise NotSent("not a plain amqp:// URL")
    if len(envelope.body) > DEFAULT_MAX_BODY:
        # The limit a worker applies: refused here as on the full path, before sending.
        raise MessageTooLarge(envelope.routing_key, len(envelope.body), DEFAULT_MAX_BODY)
    deadline = time.monotonic() + timeout
    # Connect and handshake get connect_timeout of the deadline, as on the full path.
    bound = min(timeout, resolve_connect_timeout())
    try:
        sock = socket.create_connection((target.host, target.port), timeout=bound)
    except TimeoutError:
        raise _no_handshake(url, bound, "no TCP connection") from None
    except OSError as exc:
        raise NotSent(str(exc)) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = _Connection(sock, min(deadline, time.monotonic() + bound))
    try:
        opening, frame_max = _handshake(conn, target, name)
    except TimeoutError:
        # Falling back to the full path would wait as long again: say it now.
        sock.close()
        raise _no_handshake(url, bound, "no AMQP handshake") from None
    except (OSError, struct.error, ValueError) as exc:
        sock.close()
        raise NotSent(str(exc) or type(exc).__name__) from None
    except NotSent:
        sock.close()
        raise
    conn.deadline = deadline
    return sock, conn, opening, frame_max


def _no_handshake(url: str, seconds: float, what: str) -> ConnectionFailed:
    masked = mask_url(url)
    return ConnectionFailed(f"cannot connect to {masked}: {what} within {seconds:g}s", url=masked)


def publish_once(url: str, envelope: Envelope, *, timeout: float = 30.0) -> None:
    """Connect, publish ``envelope`` mandatory and persistent as given, wait for its
    confirm, close. Raises :class:`NotSent`, ``NoRoute``, ``PublishFailed`` (nack, or no
    confirm within ``timeout`` seconds) or ``ConnectionLost``."""
    masked = mask_url(url)
    key = envelope.routing_key
    sock, conn, opening, frame_max = _connect(url, envelope, timeout, "vincent cast")
    with sock:
        frames = publish_frames(_CHANNEL, envelope, mandatory=True, max_body_frame=frame_max - 8)
        try:
            conn.send(opening + frames)
        except OSError as exc:
            raise NotSent(str(exc)) from None
        state = _Exchange(conn, key, masked)
        try:
            while not state.confirmed:
                state.handle(conn.method())
        except TimeoutError:
            raise PublishFailed(
                f"publish to {key!r}: no confirm from {masked} within {timeout:g}s"
            ) from None
        except (OSError, struct.error, IndexError, ValueError) as exc:
            state.lost(exc)
        _close(conn)
        if state.returned:
            raise NoRoute(key, exchange=envelope.exchange)


def call_once(
    url: str,
    envelope: Envelope,
    *,
    timeout: float,
    on_queue: Callable[[QueueState], None] | None = None,
    fail_fast: bool = False,
) -> Envelope:
    """Send the request ``envelope`` (its ``reply_to`` is direct reply-to) and return the
    reply, within ``timeout`` seconds from now.

    ``on_queue`` hears, as soon as the broker answers, how many consumers the queue
    named like the key has (not at all when no such queue exists). With ``fail_fast``
    that answer comes before the publish, and a queue without consumers raises
    ``CallTimeout`` at once, sending nothing. Raises :class:`NotSent`, ``NoRoute``,
    ``CallTimeout``, ``PublishFailed`` or ``ConnectionLost``.
    """
    masked = mask_url(url)
    key = envelope.routing_key
    sock, conn, opening, frame_max = _connect(url, envelope, timeout, "vincent call")
    with sock:
        consume = method_frame(
            _CHANNEL,
            60,
            20,
            b"\x00\x00"
            + short_string(_DIRECT_REPLY_TO)
            + short_string("")
            + b"\x02"  # no_ack: direct reply-to allows nothing else
            + _EMPTY_TABLE,
        )
        check = method_frame(_CHECK_CHANNEL, 20, 10, short_string("")) + method_frame(
            _CHECK_CHANNEL, 50, 10, b"\x00\x00" + short_string(key) + b"\x01" + _EMPTY_TABLE
        )
        publish = publish_frames(_CHANNEL, envelope, mandatory=True, max_body_frame=frame_max - 8)
        state = _Exchange(conn, key, masked, on_queue=on_queue)
        first, then = (opening + consume + check, publish) if fail_fast else (b"", b"")
        try:
            if fail_fast:
                _send(conn, first)
                while not state.checked:
                    state.handle(conn.method())
            idle = fail_fast and state.queue is not None and state.queue.consumers == 0
            if not idle:
                _send(conn, then or opening + consume + check + publish)
                while state.reply is None and not (state.confirmed and state.returned):
                    state.handle(conn.method())
        except TimeoutError:
            hint = _no_consumers(key) if state.queue and state.queue.consumers == 0 else ""
            raise CallTimeout(
                key, timeout, correlation_id=envelope.correlation_id or "", hint=hint
            ) from None
        except (OSError, struct.error, IndexError, ValueError) as exc:
            state.lost(exc)
        if idle:
            _close(conn)
            error = CallTimeout(key, timeout, correlation_id=envelope.correlation_id or "")
            # Said as it is: nothing timed out, nothing would have answered.
            error.args = (f"call to {key!r} not sent: {_no_consumers(key)}",)
            raise error
        _close(conn)
        if state.reply is None:
            raise NoRoute(key, exchange=envelope.exchange)
        return state.reply


def _send(conn: _Connection, data: bytes) -> None:
    try:
        conn.send(data)
    except OSError as exc:
        raise NotSent(str(exc)) from None


def _no_consumers(key: str) -> str:
    return f"queue {key!r} has no consumers: is a worker running?"


class _Exchange:
    """What the broker said so far about one publish (and a call's reply)."""

    def __init__(
        self,
        conn: _Connection,
        key: str,
        masked: str,
        on_queue: Callable[[QueueState], None] | None = None,
    ) -> None:
        self.conn = conn
        self.key = key
        self.masked = masked
        self.on_queue = on_queue
        self.opened = False
        self.confirmed = False
        self.returned = False
        self.checked = False
        self.queue: QueueState | None = None
        self.reply: Envelope | None = None

    def handle(self, frame: Frame) -> None:
        match frame.method:
            case (10, 41):  # connection.open-ok
                self.opened = True
            case (60, 50):  # basic.return: unroutable; its basic.ack follows
                self.returned = True
            case (60, 80):  # basic.ack
                self.confirmed = True
            case (60, 120):  # basic.nack
                _close(self.conn)
                raise PublishFailed(f"the broker refused the message to {self.key!r}")
            case (50, 11):  # queue.declare-ok (passive)
                _queue, offset = read_short_string(frame.arguments, 0)
                _messages, consumers = struct.unpack_from(">II", frame.arguments, offset)
                self.checked = True
                self.queue = QueueState(self.key, consumers)
                if self.on_queue is not None:
                    self.on_queue(self.queue)
            case (20, 40) if frame.channel == _CHECK_CHANNEL:
                # No queue named like the key (a pattern's listener, or none): no check.
                self.checked = True
                self.conn.send(method_frame(_CHECK_CHANNEL, 20, 41))
            case (60, 60):  # basic.deliver: the reply
                self.reply = self._content(frame.arguments)
            case (20, 40) | (10, 50):  # channel.close, connection.close
                code, text = _reply_code(frame.arguments)
                if frame.method == (20, 40):
                    _close(self.conn)
                if code in _REFUSALS or not self.opened:
                    raise NotSent(text)
                if code == _PRECONDITION_FAILED and frame.method == (20, 40):
                    # Over the broker's max_message_size: the full path's PublishFailed.
                    raise PublishFailed(
                        f"the broker refused the message to {self.key!r}: {text}",
                        reply_code=code,
                    )
                raise ConnectionLost(f"publish to {self.key!r}: {text} ({self.masked})")

    def _content(self, arguments: bytes) -> Envelope:
        _tag, offset = read_short_string(arguments, 0)
        offset += 9  # delivery tag, redelivered
        exchange, offset = read_short_string(arguments, offset)
        routing_key, _ = read_short_string(arguments, offset)
        header = decode_content_header(self.conn.frame().payload)
        body = bytearray()
        while len(body) < header.body_size:
            body += self.conn.frame().payload
        return Envelope.from_properties(
            exchange, routing_key, bytes(body), header.properties, header.headers
        )

    def lost(self, exc: BaseException) -> None:
        if not self.opened:
            raise NotSent(str(exc)) from None
        raise ConnectionLost(
            f"publish to {self.key!r}: connection to {self.masked} lost ({exc})"
        ) from None


def _close(conn: _Connection) -> None:
    """connection.close, and wait (briefly) for close-ok so the broker logs a clean
    close."""
    try:
        conn.deadline = min(conn.deadline, time.monotonic() + 1.0)
        conn.send(
            method_frame(0, 10, 50, struct.pack(">H", 200) + short_string("bye") + b"\x00" * 4)
        )
        while conn.method().method != (10, 51):
            pass
    except (OSError, struct.error, ValueError):
        pass  # the message is confirmed; how the connection ends does not matter
