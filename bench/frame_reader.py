"""Micro-measurement for "the choice at the bottom": what reading frames costs.

``python -m bench.frame_reader`` decodes the same 20,000 deliveries (``basic.deliver``,
a content header with the properties vincent sends, a 100-byte body) three ways:

- ``aiormq``: aiormq's own ``FrameReceiver`` on an ``asyncio.StreamReader`` (the path
  every delivery, confirm and reply takes today);
- ``sans-io, pamqp``: a buffer parser as an ``asyncio.Protocol.data_received`` would run
  it, one ``pamqp.frame.unmarshal`` per frame, no awaits;
- ``sans-io, header only``: the same loop that only splits frames (the floor any
  reader pays before decoding);
- ``vincent Machine``: vincent's own connection state machine
  (``transport/amqp/machine.py``, what ``data_received`` runs since issue 12) fed in
  64 KiB reads as a socket gives them, each delivery assembled into one message; and
  the same plus the ``Envelope`` a consumer is handed.

No broker, no sockets: it isolates the reader. Prints microseconds per delivery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
import time
from collections.abc import Callable

from aiormq.connection import FrameReceiver
from pamqp import commands as spec
from pamqp import frame as pamqp_frame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from vincent_core.transport.amqp.machine import Credentials, Machine, Message
from vincent_core.transport.amqp.properties import envelope_of

N = 20_000
ROUNDS = 5


def deliveries(count: int) -> bytes:
    body = b'{"n":1,"payload":"' + b"x" * 80 + b'"}'
    properties = spec.Basic.Properties(
        content_type="application/json",
        delivery_mode=2,
        message_id="0123456789abcdef0123456789abcdef",
        timestamp=dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        headers={"x-vincent-deadline": 1_800_000_000_000},
    )
    parts = []
    for tag in range(1, count + 1):
        parts.append(
            pamqp_frame.marshal(spec.Basic.Deliver("ctag", tag, False, "x", "file.get"), 1)
        )
        parts.append(pamqp_frame.marshal(ContentHeader(0, len(body), properties), 1))
        parts.append(pamqp_frame.marshal(ContentBody(body), 1))
    return b"".join(parts)


async def with_aiormq(data: bytes) -> int:
    reader = asyncio.StreamReader(limit=2**30)
    reader.feed_data(data)
    reader.feed_eof()
    receiver = FrameReceiver(reader)
    receiver.started = True
    frames = 0
    for _ in range(N * 3):
        await receiver.get_frame()
        frames += 1
    return frames


_head = struct.Struct(">BHI")


def with_pamqp(data: bytes) -> int:
    view = memoryview(data)
    offset, frames = 0, 0
    while offset < len(data):
        consumed, _channel, _frame = pamqp_frame.unmarshal(bytes(view[offset:]))
        offset += consumed
        frames += 1
    return frames


def split_only(data: bytes) -> int:
    offset, frames = 0, 0
    while offset < len(data):
        _kind, _channel, size = _head.unpack_from(data, offset)
        offset += size + 8
        frames += 1
    return frames


def open_machine() -> Machine:
    """A machine past its handshake with channel 1 open (as after ``open-ok``)."""
    machine = Machine(Credentials())
    machine.state = "open-ok"
    machine.open_channel()
    machine.outgoing.clear()
    return machine


def with_machine(reads: list[bytes], envelopes: bool) -> int:
    machine = open_machine()
    count = 0
    for data in reads:
        for event in machine.receive(data):
            if envelopes and type(event) is Message:
                envelope_of(event)
            count += 1
    return count


def best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        result = run()
        if asyncio.iscoroutine(result):
            asyncio.run(result)
        times.append(time.perf_counter() - started)
    return min(times) / N * 1e6


def main() -> None:
    data = deliveries(N)
    # pamqp.frame.unmarshal copies the rest of the buffer per frame: feed it per frame
    # as a Protocol would (it keeps a cursor; the copy is bounded by one frame).
    chunks: list[bytes] = []
    offset = 0
    while offset < len(data):
        _kind, _channel, size = _head.unpack_from(data, offset)
        chunks.append(data[offset : offset + size + 8])
        offset += size + 8

    def pamqp_per_frame() -> int:
        return sum(pamqp_frame.unmarshal(chunk)[0] > 0 for chunk in chunks)

    reads = [data[start : start + 65536] for start in range(0, len(data), 65536)]
    assert with_machine(reads, envelopes=True) == N
    rows = [
        ("aiormq FrameReceiver", best(lambda: with_aiormq(data))),
        ("vincent Machine", best(lambda: with_machine(reads, envelopes=False))),
        ("vincent Machine+Envelope", best(lambda: with_machine(reads, envelopes=True))),
        ("sans-io, pamqp decode", best(pamqp_per_frame)),
        ("sans-io, split only", best(lambda: split_only(data))),
    ]
    for name, micros in rows:
        print(f"{name:24s} {micros:6.2f} µs per delivery (3 frames)")


if __name__ == "__main__":
    main()
