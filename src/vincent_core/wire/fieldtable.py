"""AMQP field tables (message headers) encoded so that what came in goes out unchanged.

A worker re-publishes the headers it received (retry, dead-letter and hand-off copies),
so the encoder must take back everything the decoder (pamqp's) hands out, as the same
AMQP type where the value allows it:

=====================  ==========================================================
Python value           AMQP field
=====================  ==========================================================
``bool``               ``t`` boolean
``int``                the smallest signed integer that holds it (``b s I l``);
                       65535 and 4294967295 fit ``u``/``i`` as pamqp sends them
``float``              ``d`` 64-bit double (pamqp sends a 32-bit ``f``: ``0.1``
                       would come back ``0.10000000149011612``, ``1e300`` not at all)
``decimal.Decimal``    ``D``
``str``                ``S`` long string, UTF-8
``bytes``              ``S`` long string of those bytes (what a long string that is
                       not UTF-8 decodes to)
``bytearray``          ``x`` byte array (what a byte array decodes to)
``datetime``           ``T`` timestamp (seconds; naive means UTC)
``dict``               ``F`` nested table; ``list`` ``A`` array; ``None`` ``V``
=====================  ==========================================================

Tables keep pamqp's sorted key order, so every other value encodes to the very bytes
pamqp would produce. Sans-io; :func:`encode_table` raises ``TypeError`` or
``ValueError`` for what AMQP cannot carry (tuples, other objects, keys that are not
``str`` or longer than 255 bytes, integers beyond 64 bits, NaN decimals).
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import struct
import time
from typing import Any

__all__ = ["encode_table", "encode_value"]

_u32 = struct.Struct(">I")
_double = struct.Struct(">cd")
_long_long = struct.Struct(">cq")
_long = struct.Struct(">ci")
_ulong = struct.Struct(">cI")
_short = struct.Struct(">ch")
_ushort = struct.Struct(">cH")
_octet = struct.Struct(">cb")
_decimal = struct.Struct(">cBi")
_stamp = struct.Struct(">cQ")


def _integer(value: int) -> bytes:
    if -128 <= value <= 127:
        return _octet.pack(b"b", value)
    if -32768 <= value <= 32767:
        return _short.pack(b"s", value)
    if 0 <= value <= 65535:
        return _ushort.pack(b"u", value)
    if -2147483648 <= value <= 2147483647:
        return _long.pack(b"I", value)
    if 0 <= value <= 4294967295:
        return _ulong.pack(b"i", value)
    if -9223372036854775808 <= value <= 9223372036854775807:
        return _long_long.pack(b"l", value)
    raise ValueError(f"integer {value} does not fit 64 bits")


def _decimal_value(value: decimal.Decimal) -> bytes:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"cannot encode the decimal {value}")
    if exponent > 0:
        scale, mantissa = 0, int(value)
    else:
        scale, mantissa = -exponent, int(value.scaleb(-exponent))
    if not 0 <= scale <= 255 or not -2147483648 <= mantissa <= 2147483647:
        raise ValueError(f"the decimal {value} does not fit AMQP's 8-bit scale, 32-bit value")
    return _decimal.pack(b"D", scale, mantissa)


def _long_string(tag: bytes, data: bytes) -> bytes:
    if len(data) > 0xFFFFFFFF:
        raise ValueError("a string longer than 4 GiB")
    return tag + _u32.pack(len(data)) + data


def encode_value(value: Any) -> bytes:
    """One field value, its type tag first."""
    # Exact types first: the common cases cost one dict lookup.
    kind = type(value)
    if kind is str:
        return _long_string(b"S", value.encode())
    if kind is bool:
        return b"t\x01" if value else b"t\x00"
    if kind is int:
        return _integer(value)
    if kind is float:
        return _double.pack(b"d", value)
    if kind is dict:
        return b"F" + encode_table(value)
    if kind is list:
        return _array(value)
    if value is None:
        return b"V"
    if kind is bytes:
        return _long_string(b"S", value)
    if kind is bytearray:
        return _long_string(b"x", bytes(value))
    # Subclasses (IntEnum, str subclasses, OrderedDict...) as their base type.
    if isinstance(value, bool):
        return b"t\x01" if value else b"t\x00"
    if isinstance(value, int):
        return _integer(int(value))
    if isinstance(value, float):
        return _double.pack(b"d", float(value))
    if isinstance(value, str):
        return _long_string(b"S", str(value).encode())
    if isinstance(value, decimal.Decimal):
        return _decimal_value(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=dt.UTC)
        return _stamp.pack(b"T", int(value.timestamp()))
    if isinstance(value, time.struct_time):
        return _stamp.pack(b"T", calendar.timegm(value))
    if isinstance(value, dict):
        return b"F" + encode_table(value)
    if isinstance(value, list):
        return _array(value)
    if isinstance(value, bytearray):
        return _long_string(b"x", bytes(value))
    if isinstance(value, bytes):
        return _long_string(b"S", bytes(value))
    raise TypeError(f"{type(value).__name__} cannot travel in an AMQP header ({value!r:.80})")


def _array(values: list[Any]) -> bytes:
    data = b"".join([encode_value(item) for item in values])
    return b"A" + _u32.pack(len(data)) + data


def encode_table(table: dict[str, Any]) -> bytes:
    """A field table: its 4-byte length, then each ``name`` and value, sorted by name."""
    if not table:
        return b"\x00\x00\x00\x00"
    parts: list[bytes] = []
    for name, value in sorted(table.items()):
        if not isinstance(name, str):
            raise TypeError(f"header names must be str, not {type(name).__name__}")
        encoded = name.encode()
        if len(encoded) > 255:
            raise ValueError(f"header name longer than 255 bytes: {name[:40]!r}...")
        parts.append(bytes((len(encoded),)) + encoded)
        try:
            parts.append(encode_value(value))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from None
    data = b"".join(parts)
    return _u32.pack(len(data)) + data
