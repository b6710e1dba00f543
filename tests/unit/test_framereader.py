"""Reading frames for the one-shot path: the same values as pamqp's decoder, the same
header bytes as pamqp's encoder."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from pamqp.encode import field_table as pamqp_table
from pamqp.frame import marshal
from pamqp.header import ContentHeader

from vincent_core.transport.amqp import to_properties
from vincent_core.transport.framereader import (
    FrameReader,
    decode_content_header,
    decode_field_table,
)
from vincent_core.transport.frames import field_table, method_frame
from vincent_core.wire.envelope import Envelope, build_call

INTEGERS = [0, -1, 127, -128, 300, -3000, 40000, 70000, -70000, 3_000_000_000, 2**40, -(2**40)]


@pytest.mark.parametrize("value", [*INTEGERS, "é✓", ""])
def test_flat_tables_are_pamqps_bytes(value: int | str) -> None:
    headers: dict[str, Any] = {"b": value, "a": "x", "x-vincent-deadline": 1_796_403_933_286}
    assert field_table(headers) == pamqp_table(headers)


TABLE: dict[str, Any] = {
    "s": "text",
    "i": 7,
    "big": 2**40,
    "neg": -40000,
    "yes": True,
    "d": 2.5,
    "bytes": bytearray(b"\x00\xff"),
    "nested": {"list": [1, "a", None]},
    "none": None,
}


def test_tables_decode_as_pamqp_decodes_them() -> None:
    from pamqp.decode import field_table

    data = pamqp_table(TABLE)
    assert decode_field_table(data) == (field_table(data)[1], len(data))


def test_rare_types_fall_back_to_pamqp() -> None:
    when = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    table: dict[str, Any] = {"when": when, "price": decimal.Decimal("1.50")}
    decoded, _ = decode_field_table(pamqp_table(table))
    assert decoded["price"] == decimal.Decimal("1.50")
    assert decoded["when"].timestamp() == when.timestamp()


def test_content_header_and_frames_split_anywhere() -> None:
    envelope = build_call("x", "k", {"a": 1}, timeout=3, reply_to="amq.rabbitmq.reply-to")
    envelope.headers["x-origin"] = "ops"
    data = method_frame(1, 60, 80, b"\x00" * 9) + marshal(
        ContentHeader(0, len(envelope.body), to_properties(envelope)), 1
    )
    reader = FrameReader()
    frames = []
    for byte in data:  # one byte at a time: frames come out whole
        reader.feed(bytes([byte]))
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    assert [f.kind for f in frames] == [1, 2]
    assert frames[0].method == (60, 80)
    header = decode_content_header(frames[1].payload)
    assert header.body_size == len(envelope.body)
    assert header.headers == envelope.headers
    rebuilt = Envelope.from_properties("x", "k", envelope.body, header.properties, header.headers)
    assert rebuilt == envelope


def test_a_malformed_frame_is_refused() -> None:
    reader = FrameReader()
    reader.feed(b"\x01\x00\x01\x00\x00\x00\x01\x00\x00")
    with pytest.raises(ValueError, match="malformed"):
        reader.next_frame()
