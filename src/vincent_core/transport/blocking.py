"""One confirmed publish over a plain blocking socket: the one-shot ``vincent cast``.

A process that publishes one message and exits spends most of its life importing
(asyncio, aiormq, pamqp: ~60 ms) and in round trips it does not need. This speaks just
enough AMQP 0-9-1 with the standard library: the handshake, a channel in confirm mode,
the publish (the same frames as :mod:`.frames` sends on the async path) and a clean
close, with the client's frames after ``tune`` sent in one write.

It keeps the cast's guarantee: :func:`publish_once` returns only after the broker's
``basic.ack``. It raises :class:`NotSent` when the broker certainly does not have the
message (it refused the connection, the login, the vhost or the exchange), so that the
caller may redo the whole thing on the full path, which reports such failures in
detail. Once the publish may have been taken, failures are ``VincentError``s.
"""

from __future__ import annotations

import socket
import struct
import urllib.parse
from dataclasses import dataclass

from vincent_core.config import mask_url
from vincent_core.errors import ConnectionLost, NoRoute, PublishFailed
from vincent_core.transport.frames import publish_frames
from vincent_core.wire.envelope import Envelope

__all__ = ["NotSent", "Target", "parse_url", "publish_once"]

_PROTOCOL = b"AMQP\x00\x00\x09\x01"
_FRAME_END = 0xCE
_head = struct.Struct(">BHI")
_method = struct.Struct(">HH")
_CHANNEL = 1
# Codes with which the broker refuses before taking anything: access refused, not
# found (vhost, exchange), not allowed.
_REFUSALS = {403, 404, 530}


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


def _short(value: str) -> bytes:
    data = value.encode()
    return bytes((len(data),)) + data


def _long(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _frame(channel: int, class_id: int, method_id: int, arguments: bytes = b"") -> bytes:
    payload = _method.pack(class_id, method_id) + arguments
    return _head.pack(1, channel, len(payload)) + payload + bytes((_FRAME_END,))


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def method(self) -> tuple[int, int, int, bytes]:
        """The next method frame: (channel, class, method, arguments); content frames
        (the header and body of a returned message) are skipped."""
        while True:
            kind, channel, payload = self._frame()
            if kind == 1:
                class_id, method_id = _method.unpack_from(payload)
                return channel, class_id, method_id, payload[4:]

    def _frame(self) -> tuple[int, int, bytes]:
        while True:
            if len(self.buffer) >= 7:
                kind, channel, size = _head.unpack_from(self.buffer)
                end = 7 + size
                if len(self.buffer) > end:
                    payload = self.buffer[7:end]
                    if self.buffer[end] != _FRAME_END:
                        raise ConnectionError("malformed frame from the broker")
                    self.buffer = self.buffer[end + 1 :]
                    return kind, channel, payload
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the broker closed the connection")
            self.buffer += data


def _reply_code(arguments: bytes) -> tuple[int, str]:
    code = struct.unpack_from(">H", arguments)[0]
    text = arguments[3 : 3 + arguments[2]].decode(errors="replace")
    return code, text


def _handshake(conn: _Connection, target: Target) -> tuple[bytes, int]:
    """Up to ``tune``; returns the frames that open the connection, the channel and
    confirm mode (sent together with the publish: the broker handles them in order)."""
    conn.send(_PROTOCOL)
    _, class_id, method_id, _ = conn.method()
    if (class_id, method_id) != (10, 10):  # connection.start
        raise NotSent("not an AMQP 0-9-1 broker")
    properties = (
        _short("product")
        + b"S"
        + _long(b"vincent")
        + _short("connection_name")
        + b"S"
        + _long(b"vincent cast")
    )
    login = f"\0{target.user}\0{target.password}".encode()
    conn.send(
        _frame(0, 10, 11, _long(properties) + _short("PLAIN") + _long(login) + _short("en_US"))
    )
    _, class_id, method_id, arguments = conn.method()
    if (class_id, method_id) != (10, 30):  # connection.tune (else: login refused)
        raise NotSent("the broker refused the login")
    channel_max, frame_max, _heartbeat = struct.unpack_from(">HIH", arguments)
    frame_max = frame_max or 131072
    # No heartbeats: the connection lives for one round trip.
    return (
        _frame(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
        + _frame(0, 10, 40, _short(target.vhost) + _short("") + b"\x00")
        + _frame(_CHANNEL, 20, 10, _short(""))
        + _frame(_CHANNEL, 85, 10, b"\x00")
    ), frame_max


def publish_once(url: str, envelope: Envelope, *, timeout: float = 30.0) -> None:
    """Connect, publish ``envelope`` mandatory and persistent as given, wait for its
    confirm, close. Raises :class:`NotSent`, ``NoRoute``, ``PublishFailed`` (nack, or no
    confirm within ``timeout`` seconds) or ``ConnectionLost``."""
    target = parse_url(url)
    if target is None:
        raise NotSent("not a plain amqp:// URL")
    masked = mask_url(url)
    key = envelope.routing_key
    try:
        sock = socket.create_connection((target.host, target.port), timeout=min(timeout, 10.0))
    except OSError as exc:
        raise NotSent(str(exc)) from None
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(sock)
        try:
            opening, frame_max = _handshake(conn, target)
        except (OSError, struct.error) as exc:
            raise NotSent(str(exc)) from None
        sock.settimeout(timeout)
        frames = publish_frames(_CHANNEL, envelope, mandatory=True, max_body_frame=frame_max - 8)
        try:
            conn.send(opening + frames)
        except OSError as exc:
            raise NotSent(str(exc)) from None
        opened = False
        returned = False
        try:
            while True:
                _, class_id, method_id, arguments = conn.method()
                match (class_id, method_id):
                    case (10, 41):  # connection.open-ok
                        opened = True
                    case (60, 50):  # basic.return: unroutable; its basic.ack follows
                        returned = True
                    case (60, 80):  # basic.ack
                        break
                    case (60, 120):  # basic.nack
                        _close(conn)
                        raise PublishFailed(f"the broker refused the message to {key!r}")
                    case (20, 40) | (10, 50):  # channel.close, connection.close
                        code, text = _reply_code(arguments)
                        if class_id == 20:
                            _close(conn)
                        if code in _REFUSALS or not opened:
                            raise NotSent(text)
                        raise ConnectionLost(f"publish to {key!r}: {text} ({masked})")
        except TimeoutError:
            raise PublishFailed(
                f"publish to {key!r}: no confirm from {masked} within {timeout:g}s"
            ) from None
        except (OSError, struct.error, IndexError) as exc:
            if not opened:
                raise NotSent(str(exc)) from None
            raise ConnectionLost(
                f"publish to {key!r}: connection to {masked} lost ({exc})"
            ) from None
        _close(conn)
        if returned:
            raise NoRoute(key, exchange=envelope.exchange)


def _close(conn: _Connection) -> None:
    """connection.close, and wait for close-ok so the broker logs a clean close."""
    try:
        conn.send(_frame(0, 10, 50, struct.pack(">H", 200) + _short("bye") + b"\x00" * 4))
        while conn.method()[1:3] != (10, 51):
            pass
    except (OSError, struct.error):
        pass  # the message is confirmed; how the connection ends does not matter
