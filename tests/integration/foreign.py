"""A foreign publisher: raw pika, with header values pika cannot send by itself.

pika encodes ``str`` as a long string (``S``), ``bytes`` as a byte array (``x``) and has
no float at all. Other clients do send 64-bit doubles (``d``) and long strings that are
not UTF-8 (AMQP long strings are bytes): :class:`RawLongString` and ``float`` values are
encoded as those here, so a test can hand RabbitMQ exactly what such a client would.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from typing import Any

import pika
import pika.data

__all__ = ["RawLongString", "foreign_publish", "foreign_publish_many", "not_utf8"]


class RawLongString(bytes):
    """A long string (``S``) of arbitrary bytes, not necessarily UTF-8."""


_encode_value = pika.data.encode_value


def _encode_value_too(pieces: list[bytes], value: Any) -> int:
    if isinstance(value, RawLongString):
        pieces.append(struct.pack(">cI", b"S", len(value)) + bytes(value))
        return 5 + len(value)
    if isinstance(value, float):
        pieces.append(struct.pack(">cd", b"d", value))
        return 9
    if isinstance(value, list):
        inner: list[bytes] = []
        for item in value:
            _encode_value_too(inner, item)
        piece = b"".join(inner)
        pieces.append(struct.pack(">cI", b"A", len(piece)) + piece)
        return 5 + len(piece)
    if isinstance(value, dict):
        pieces.append(b"F")
        return 1 + int(pika.data.encode_table(pieces, value))
    return int(_encode_value(pieces, value))


@contextlib.contextmanager
def _raw_values() -> Iterator[None]:
    pika.data.encode_value = _encode_value_too
    try:
        yield
    finally:
        pika.data.encode_value = _encode_value


def foreign_publish(
    url: str,
    exchange: str,
    key: str,
    body: bytes,
    *,
    headers: dict[str, Any] | None = None,
    count: int = 1,
    **properties: Any,
) -> None:
    """Publish ``count`` copies with pika on a connection of its own (confirmed)."""
    foreign_publish_many(url, exchange, [(key, body, headers or {}, properties)] * count)


def not_utf8(data: bytes) -> bool:
    """True for bytes that a long-string decoder hands out as ``bytes``, not ``str``."""
    try:
        data.decode()
    except UnicodeDecodeError:
        return True
    return False


def foreign_publish_many(
    url: str, exchange: str, messages: list[tuple[str, bytes, dict[str, Any], dict[str, Any]]]
) -> None:
    """Publish ``(key, body, headers, properties)`` messages in order, each confirmed."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        with _raw_values():
            for key, body, headers, properties in messages:
                channel.basic_publish(
                    exchange,
                    key,
                    body,
                    pika.BasicProperties(headers=headers or None, **properties),
                    mandatory=True,
                )
    finally:
        connection.close()
