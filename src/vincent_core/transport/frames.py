"""AMQP 0-9-1 frames for the hot paths, encoded without building pamqp objects.

Sans-io: envelope in, bytes out. A publish is three frames (``basic.publish``, the
content header, the body split to the negotiated frame size) and an ack or reject one.
pamqp builds a validated object per frame, a ``datetime`` for the timestamp and a
``BytesIO`` per marshal; at thousands of messages a second that is most of what a
publish costs, so the frames vincent sends per message are packed here directly. The
unit tests check every byte against pamqp's own encoder.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from vincent_core.errors import EncodeError
from vincent_core.wire.fieldtable import encode_table

if TYPE_CHECKING:
    from vincent_core.wire.envelope import Envelope

__all__ = [
    "ack_frame",
    "field_table",
    "long_string",
    "method_frame",
    "publish_frames",
    "reject_frame",
    "short_string",
]

_FRAME_END = b"\xce"
_METHOD = 1
_HEADER = 2
_BODY = 3
_BASIC = 60

_frame_head = struct.Struct(">BHI")
_publish_head = struct.Struct(">HHH")
_header_head = struct.Struct(">HHQH")
_ack = struct.Struct(">BHIHHQB")
_octet = struct.Struct(">B")
_u64 = struct.Struct(">Q")
_u32 = struct.Struct(">I")
_method_ids = struct.Struct(">HH")

# Basic.Publish frames for (channel, exchange, key, mandatory): a worker or client sends
# to few distinct keys, so the method frame is almost always a lookup.
_publish_cache: dict[tuple[int, str, str, bool], bytes] = {}
_PUBLISH_CACHE_SIZE = 1024


def _short(value: str, what: str) -> bytes:
    data = value.encode()
    if len(data) > 255:
        raise ValueError(f"{what} is longer than 255 bytes")
    return _octet.pack(len(data)) + data


def short_string(value: str) -> bytes:
    """An AMQP ``shortstr`` (raises ``ValueError`` past 255 bytes)."""
    return _short(value, "a short string")


def long_string(value: bytes) -> bytes:
    """An AMQP ``longstr``."""
    return _u32.pack(len(value)) + value


def method_frame(channel: int, class_id: int, method_id: int, arguments: bytes = b"") -> bytes:
    """A method frame with its (already encoded) arguments."""
    payload = _method_ids.pack(class_id, method_id) + arguments
    return _frame_head.pack(_METHOD, channel, len(payload)) + payload + _FRAME_END


def _method_publish(channel: int, exchange: str, key: str, mandatory: bool) -> bytes:
    cache_key = (channel, exchange, key, mandatory)
    frame = _publish_cache.get(cache_key)
    if frame is None:
        payload = b"".join(
            (
                _publish_head.pack(_BASIC, 40, 0),
                _short(exchange, "exchange name"),
                _short(key, "routing key"),
                b"\x01" if mandatory else b"\x00",
            )
        )
        frame = _frame_head.pack(_METHOD, channel, len(payload)) + payload + _FRAME_END
        if len(_publish_cache) >= _PUBLISH_CACHE_SIZE:
            _publish_cache.clear()
        _publish_cache[cache_key] = frame
    return frame


def _properties(envelope: Envelope, message_id: str | None) -> tuple[int, bytes]:
    """The property flags and list of a content header, in the order AMQP fixes."""
    flags = 0
    parts: list[bytes] = []
    if envelope.content_type is not None:
        flags |= 0x8000
        parts.append(_short(envelope.content_type, "content_type"))
    if envelope.content_encoding is not None:
        flags |= 0x4000
        parts.append(_short(envelope.content_encoding, "content_encoding"))
    if envelope.headers:
        flags |= 0x2000
        parts.append(field_table(envelope.headers))
    if envelope.delivery_mode is not None:
        flags |= 0x1000
        parts.append(_octet.pack(envelope.delivery_mode))
    if envelope.priority is not None:
        flags |= 0x0800
        parts.append(_octet.pack(envelope.priority))
    if envelope.correlation_id is not None:
        flags |= 0x0400
        parts.append(_short(envelope.correlation_id, "correlation_id"))
    if envelope.reply_to is not None:
        flags |= 0x0200
        parts.append(_short(envelope.reply_to, "reply_to"))
    if envelope.expiration is not None:
        flags |= 0x0100
        parts.append(_short(envelope.expiration, "expiration"))
    if message_id is not None:
        flags |= 0x0080
        parts.append(_short(message_id, "message_id"))
    if envelope.timestamp is not None:
        flags |= 0x0040
        parts.append(_u64.pack(envelope.timestamp))
    if envelope.type is not None:
        flags |= 0x0020
        parts.append(_short(envelope.type, "type"))
    if envelope.user_id is not None:
        flags |= 0x0010
        parts.append(_short(envelope.user_id, "user_id"))
    if envelope.app_id is not None:
        flags |= 0x0008
        parts.append(_short(envelope.app_id, "app_id"))
    return flags, b"".join(parts)


def field_table(headers: dict[str, Any]) -> bytes:
    """``headers`` as an AMQP field table (:mod:`vincent_core.wire.fieldtable`: every
    value a received table decodes to goes out as the same value; floats as doubles).

    Raises ``EncodeError`` for what AMQP cannot carry: tuples, other objects, non-str
    keys, integers beyond 64 bits.
    """
    try:
        return encode_table(headers)
    except (TypeError, ValueError, OverflowError, struct.error) as exc:
        raise EncodeError(f"headers cannot travel in an AMQP field table: {exc}") from None


def publish_frames(
    channel: int,
    envelope: Envelope,
    *,
    mandatory: bool,
    max_body_frame: int,
    message_id: str | None = None,
) -> bytes:
    """``basic.publish`` + content header + body frames of ``envelope``, as sent.

    ``max_body_frame`` is the largest body payload per frame (``frame_max`` minus the
    8 bytes of framing); ``message_id`` replaces the envelope's. Raises ``ValueError``
    for a string field over 255 bytes, ``EncodeError`` for headers AMQP cannot carry.
    """
    body = envelope.body
    flags, properties = _properties(envelope, message_id or envelope.message_id)
    header = _header_head.pack(_BASIC, 0, len(body), flags) + properties
    parts: list[bytes] = [
        _method_publish(channel, envelope.exchange, envelope.routing_key, mandatory),
        _frame_head.pack(_HEADER, channel, len(header)),
        header,
        _FRAME_END,
    ]
    for start in range(0, len(body), max_body_frame):
        chunk = body[start : start + max_body_frame]
        parts += (_frame_head.pack(_BODY, channel, len(chunk)), chunk, _FRAME_END)
    return b"".join(parts)


def ack_frame(channel: int, delivery_tag: int, *, multiple: bool = False) -> bytes:
    """``basic.ack`` (with ``multiple``: every unacked tag up to ``delivery_tag``)."""
    return _ack.pack(_METHOD, channel, 13, _BASIC, 80, delivery_tag, int(multiple)) + _FRAME_END


def reject_frame(channel: int, delivery_tag: int, *, requeue: bool) -> bytes:
    """``basic.reject``, requeued or not."""
    return _ack.pack(_METHOD, channel, 13, _BASIC, 90, delivery_tag, int(requeue)) + _FRAME_END
