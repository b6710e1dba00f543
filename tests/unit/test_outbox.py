"""The outbox: one send per loop iteration, in order, nothing for closed channels; and
the confirm deadlines' sweep."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.outbox import ConfirmDeadlines, Outbox
from vincent_core.transport.frames import ack_frame, reject_frame


class FakeChannel:
    """A channel as far as the outbox looks at one."""

    def __init__(self) -> None:
        self.is_open = True
        self.closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def closed_by_broker(self) -> None:
        self.is_open = False
        self.closing.set_exception(ConnectionError("closed by the broker"))
        self.closing.exception()

    def closed_by_us(self) -> None:
        self.is_open = False  # close sent; its close-ok has not come yet


class FakeConnection:
    """A connection as far as the outbox looks at one: its loop and its socket."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.sent: list[bytes] = []

    def send_now(self, data: bytes) -> None:
        self.sent.append(data)


def outbox_for(connection: FakeConnection) -> Outbox:
    return Outbox(cast(Any, connection))


def channel() -> Any:
    return FakeChannel()


async def next_iteration() -> None:
    """Let the loop run what was scheduled with ``call_soon`` so far."""
    await asyncio.sleep(0)


async def test_the_writes_of_one_iteration_are_one_send_in_order() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    one, two = channel(), channel()
    outbox.write(one, b"a")
    outbox.write(None, b"b")
    outbox.write(two, b"c")
    outbox.write(one, b"d")
    assert connection.sent == []  # nothing before the end of the iteration
    await next_iteration()
    assert connection.sent == [b"abcd"]
    outbox.write(two, b"e")
    outbox.write(one, b"f")
    await next_iteration()
    assert connection.sent == [b"abcd", b"ef"]
    await next_iteration()
    assert connection.sent == [b"abcd", b"ef"]  # no empty sends


async def test_send_now_sends_at_once_and_the_scheduled_send_finds_nothing() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    outbox.write(channel(), b"x")
    outbox.send()
    assert connection.sent == [b"x"]
    await next_iteration()
    assert connection.sent == [b"x"]
    outbox.write(channel(), b"y")  # a new iteration schedules a new send
    await next_iteration()
    assert connection.sent == [b"x", b"y"]


async def test_frames_of_a_channel_the_broker_closed_are_dropped_at_send() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    open_, broken = channel(), channel()
    outbox.write(open_, b"1")
    outbox.write(broken, b"2")
    outbox.write(None, b"3")
    outbox.write(open_, b"4")
    broken.closed_by_broker()  # after the write, before the send
    await next_iteration()
    assert connection.sent == [b"134"]


async def test_writes_after_our_own_close_are_dropped_when_written() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    mine = channel()
    outbox.write(mine, b"before")
    outbox.write(None, b"<close>")
    mine.closed_by_us()
    outbox.write(mine, b"after")
    await next_iteration()
    # What was written before the close still goes, before the close itself.
    assert connection.sent == [b"before<close>"]


async def test_a_write_for_a_closed_channel_alone_sends_nothing() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    gone = channel()
    outbox.write(gone, b"x")
    gone.closed_by_broker()
    await next_iteration()
    assert connection.sent == []


async def test_settlements_are_rendered_when_sent() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    consumer = channel()
    settle = Settlements(5)
    written = [tag for tag in (1, 2, 3) if settle.ack(tag)]
    assert written == [1]  # only the first pending settlement is written
    outbox.write(consumer, settle)
    settle.reject(4, requeue=False)  # after the write, before the send: still included
    await next_iteration()
    assert connection.sent == [reject_frame(5, 4, requeue=False) + ack_frame(5, 3, multiple=True)]
    assert not settle.pending


async def test_abandoned_writes_are_never_sent() -> None:
    connection = FakeConnection()
    outbox = outbox_for(connection)
    outbox.write(channel(), b"lost")
    outbox.write(None, b"lost too")
    outbox.abandon()
    await next_iteration()
    assert connection.sent == []


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
    assert answered.result() is None
    deadlines.close()


async def test_closing_the_deadlines_stops_the_sweep_and_fails_nothing() -> None:
    deadlines = ConfirmDeadlines()
    waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    deadlines.add(waiting, 0.01)
    deadlines.close()
    await next_iteration()
    assert not waiting.done()
    waiting.cancel()
