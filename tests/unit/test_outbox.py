"""The outbox: one batch per loop iteration, in order, nothing for closed channels."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.outbox import ConfirmDeadlines, Outbox
from vincent_core.transport.frames import ack_frame


class _FakeChannel:
    def __init__(self) -> None:
        self.is_closed = False
        self._Channel__close_event = asyncio.Event()


def FakeChannel() -> Any:
    """An aiormq channel as far as the outbox looks at one."""
    return _FakeChannel()


def connection(size: int = 10) -> Any:
    return SimpleNamespace(write_queue=asyncio.Queue(maxsize=size))


async def test_an_iteration_of_writes_is_one_item_rendered_when_taken() -> None:
    conn = connection()
    outbox = Outbox(conn)
    channel = FakeChannel()
    outbox.write(channel, b"a")
    outbox.write(channel, b"b")
    assert conn.write_queue.qsize() == 1
    outbox.write(channel, b"c")  # still before the writer takes the batch
    batch = conn.write_queue.get_nowait()
    assert batch.payload == b"abc"
    outbox.write(channel, b"d")
    assert conn.write_queue.get_nowait().payload == b"d"


async def test_frames_of_a_closed_channel_are_dropped() -> None:
    conn = connection()
    outbox = Outbox(conn)
    open_channel, closing, closed = FakeChannel(), FakeChannel(), FakeChannel()
    closed.is_closed = True
    outbox.write(open_channel, b"1")
    outbox.write(closing, b"2")
    outbox.write(closed, b"3")
    outbox.write(open_channel, b"4")
    closing._Channel__close_event.set()  # the broker closed it after the write
    assert conn.write_queue.get_nowait().payload == b"14"


async def test_settlements_render_when_sent() -> None:
    conn = connection()
    outbox = Outbox(conn)
    channel = FakeChannel()
    settle = Settlements(5)
    for tag in (1, 2, 3):
        if settle.ack(tag):
            outbox.write(channel, settle)
    assert conn.write_queue.get_nowait().payload == ack_frame(5, 3, multiple=True)


async def test_a_full_queue_keeps_the_order_and_flush_waits_for_it() -> None:
    conn = connection(size=1)
    outbox = Outbox(conn)
    channel = FakeChannel()
    conn.write_queue.put_nowait(SimpleNamespace(payload=b"aiormq's"))
    outbox.write(channel, b"x")
    outbox.write(channel, b"y")
    flushed = asyncio.ensure_future(outbox.flush())
    await asyncio.sleep(0)
    assert not flushed.done()
    assert conn.write_queue.get_nowait().payload == b"aiormq's"
    await flushed
    assert conn.write_queue.get_nowait().payload == b"xy"


async def test_abandoned_batches_send_nothing() -> None:
    conn = connection()
    outbox = Outbox(conn)
    outbox.write(FakeChannel(), b"lost")
    outbox.abandon()
    assert conn.write_queue.get_nowait().payload == b""


async def test_confirm_waits_time_out_from_the_sweep() -> None:
    deadlines = ConfirmDeadlines()
    loop = asyncio.get_running_loop()
    late, answered = loop.create_future(), loop.create_future()
    deadlines.add(late, 0.01)
    deadlines.add(answered, 0.01)
    answered.set_result(None)
    deadlines.discard(answered)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(late, 2)
    assert isinstance(late.exception(), TimeoutError)  # the sweep's, not wait_for's
    deadlines.close()
