"""Reading AMQP 0-9-1 frames: bytes in, frames and their fields out (sans-io).

The reading half of :mod:`.frames`, for the one-shot blocking path
(:mod:`.blocking`): it needs the methods a publish, a passive declare and a direct
reply-to consume answer with, and the content of one reply. Field tables of the
common types are decoded here; a table holding anything rarer (decimals, timestamps)
is handed whole to pamqp's decoder, so the values always come back as the async path
(:mod:`.amqp.machine`, which decodes rarer methods with pamqp) gives them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FRAME_END",
    "ContentHeader",
    "Frame",
    "FrameReader",
    "decode_content_header",
    "decode_field_table",
    "read_short_string",
]

FRAME_END = 0xCE
_head = struct.Struct(">BHI")
_header_head = struct.Struct(">HHQH")
# Content header properties, in the order of their flag bits (0x8000 down to 0x0004).
_PROPERTIES = (
    ("content_type", "s"),
    ("content_encoding", "s"),
    ("headers", "F"),
    ("delivery_mode", "o"),
    ("priority", "o"),
    ("correlation_id", "s"),
    ("reply_to", "s"),
    ("expiration", "s"),
    ("message_id", "s"),
    ("timestamp", "Q"),
    ("type", "s"),
    ("user_id", "s"),
    ("app_id", "s"),
    ("cluster_id", "s"),
)
_FIXED: dict[str, struct.Struct] = {
    "t": struct.Struct(">?"),
    "b": struct.Struct(">b"),
    "B": struct.Struct(">B"),
    "s": struct.Struct(">h"),
    "u": struct.Struct(">H"),
    "I": struct.Struct(">i"),
    "i": struct.Struct(">I"),
    "l": struct.Struct(">q"),
    "f": struct.Struct(">f"),
    "d": struct.Struct(">d"),
}
_u32 = struct.Struct(">I")


class _Rare(Exception):
    """A field type this module leaves to pamqp."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: its type (1 method, 2 content header, 3 body, 8 heartbeat)."""

    kind: int
    channel: int
    payload: bytes

    @property
    def method(self) -> tuple[int, int]:
        """(class id, method id) of a method frame."""
        class_id, method_id = struct.unpack_from(">HH", self.payload)
        return class_id, method_id

    @property
    def arguments(self) -> bytes:
        """A method frame's arguments."""
        return self.payload[4:]


@dataclass
class FrameReader:
    """Feed it bytes as they come; take whole frames out."""

    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> Frame | None:
        """The next whole frame, or ``None`` until more bytes come. Raises
        ``ValueError`` for a malformed frame."""
        if len(self._buffer) < 7:
            return None
        kind, channel, size = _head.unpack_from(self._buffer)
        end = 7 + size
        if len(self._buffer) <= end:
            return None
        if self._buffer[end] != FRAME_END:
            raise ValueError("malformed frame from the broker")
        payload = bytes(self._buffer[7:end])
        del self._buffer[: end + 1]
        return Frame(kind, channel, payload)


def read_short_string(data: bytes, offset: int) -> tuple[str, int]:
    """A ``shortstr`` at ``offset``, and the offset after it."""
    size = data[offset]
    end = offset + 1 + size
    return data[offset + 1 : end].decode("utf-8", "replace"), end


def _long_string(data: bytes, offset: int) -> tuple[bytes, int]:
    (size,) = _u32.unpack_from(data, offset)
    start = offset + 4
    return data[start : start + size], start + size


def _value(data: bytes, offset: int) -> tuple[Any, int]:
    kind = chr(data[offset])
    offset += 1
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return fixed.unpack_from(data, offset)[0], offset + fixed.size
    if kind == "S":
        raw, offset = _long_string(data, offset)
        try:
            return raw.decode("utf-8"), offset
        except UnicodeDecodeError:
            return raw, offset
    if kind == "x":
        raw, offset = _long_string(data, offset)
        return bytearray(raw), offset
    if kind == "F":
        return _table(data, offset)
    if kind == "A":
        raw, end = _long_string(data, offset)
        values: list[Any] = []
        position = 0
        while position < len(raw):
            value, position = _value(raw, position)
            values.append(value)
        return values, end
    if kind == "V":
        return None, offset
    raise _Rare(kind)


def _table(data: bytes, offset: int) -> tuple[dict[str, Any], int]:
    raw, end = _long_string(data, offset)
    table: dict[str, Any] = {}
    position = 0
    while position < len(raw):
        name, position = read_short_string(raw, position)
        table[name], position = _value(raw, position)
    return table, end


def decode_field_table(data: bytes, offset: int = 0) -> tuple[dict[str, Any], int]:
    """The field table at ``offset`` and the offset after it (values as pamqp gives them)."""
    try:
        return _table(data, offset)
    except _Rare:
        from pamqp.decode import field_table

        size, table = field_table(data[offset:])
        return dict(table), offset + size


@dataclass(frozen=True, slots=True)
class ContentHeader:
    """A content header: the body size and the properties that were set."""

    body_size: int
    properties: dict[str, Any]
    headers: dict[str, Any]


def decode_content_header(payload: bytes) -> ContentHeader:
    """A content header frame's payload (basic class)."""
    _class, _weight, size, flags = _header_head.unpack_from(payload)
    offset = _header_head.size
    properties: dict[str, Any] = {}
    headers: dict[str, Any] = {}
    for bit, (name, kind) in zip(range(15, 1, -1), _PROPERTIES, strict=True):
        if not flags & (1 << bit):
            continue
        value: Any
        if kind == "s":
            value, offset = read_short_string(payload, offset)
        elif kind == "o":
            value, offset = payload[offset], offset + 1
        elif kind == "Q":
            value, offset = struct.unpack_from(">Q", payload, offset)[0], offset + 8
        else:
            headers, offset = decode_field_table(payload, offset)
            continue
        if name != "cluster_id":  # deprecated; vincent's envelope has no place for it
            properties[name] = value
    return ContentHeader(size, properties, headers)
