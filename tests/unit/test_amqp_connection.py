"""The owned connection's asyncio driver (:class:`Connection`, :class:`Channel`) without
a broker: a fake transport collects what it writes, and the broker's frames, encoded by
pamqp, are fed to ``data_received`` as the socket would."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any

import pytest
from pamqp import commands as spec
from pamqp.base import Frame as PamqpMethod
from pamqp.body import ContentBody
from pamqp.frame import marshal, unmarshal
from pamqp.header import ContentHeader
from pamqp.heartbeat import Heartbeat

from vincent_core.transport.amqp.channel import Channel
from vincent_core.transport.amqp.connection import Connection
from vincent_core.transport.amqp.exceptions import (
    ChannelClosed,
    ConnectionClosed,
    Nacked,
    Returned,
)
from vincent_core.transport.amqp.machine import Credentials, Message

Shape = tuple[int, str, dict[str, Any]]


def shape(channel: int, value: Any) -> Shape:
    fields = dict(value) if isinstance(value, PamqpMethod) else {}
    return channel, type(value).__qualname__, fields


class FakeTransport(asyncio.Transport):
    """A socket as the protocol sees it: writes are collected, a close or an abort
    calls ``connection_lost`` in the next iteration, as asyncio's transports do."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.written = bytearray()
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "a write after close"
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self._lose()

    def abort(self) -> None:
        self.aborted = True
        self._lose()

    def _lose(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def take(self) -> list[Shape]:
        """The frames written so far (decoded by pamqp), and forget them."""
        data = bytes(self.written)
        self.written.clear()
        frames = []
        while data:
            size, channel, value = unmarshal(data)
            frames.append(shape(channel, value))
            data = data[size:]
        return frames


def frame(channel: int, method: PamqpMethod) -> bytes:
    return marshal(method, channel)


def content(channel: int, body: bytes, **properties: Any) -> bytes:
    header = ContentHeader(0, len(body), spec.Basic.Properties(**properties))
    data = marshal(header, channel)
    if body:
        data += marshal(ContentBody(body), channel)
    return data


def deliver(channel: int, consumer_tag: str, tag: int, body: bytes) -> bytes:
    method = spec.Basic.Deliver(
        consumer_tag=consumer_tag, delivery_tag=tag, exchange="ex", routing_key="rk"
    )
    return frame(channel, method) + content(channel, body)


async def iterations(count: int = 3) -> None:
    """Let the loop run a few iterations (tasks' steps, the outbox's send)."""
    for _ in range(count):
        await asyncio.sleep(0)


HANDSHAKE = (
    frame(0, spec.Connection.Start(mechanisms="PLAIN AMQPLAIN"))
    + frame(0, spec.Connection.Tune(channel_max=2047, frame_max=131072, heartbeat=60))
    + frame(0, spec.Connection.OpenOk())
)


async def connected() -> tuple[Connection, FakeTransport]:
    """A connection past its handshake, with nothing left written."""
    connection = Connection(Credentials(), asyncio.get_running_loop())
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    connection.data_received(HANDSHAKE)
    opened = await asyncio.wait_for(connection.opened, 1)
    assert (opened.frame_max, opened.heartbeat) == (131072, 60)
    assert [name for _, name, _ in transport.take()] == [
        "ProtocolHeader",
        "Connection.StartOk",
        "Connection.TuneOk",
        "Connection.Open",
    ]
    return connection, transport


async def request(
    transport: FakeTransport, connection: Connection, call: Coroutine[Any, Any, Any]
) -> tuple[asyncio.Task[Any], list[Shape]]:
    """Start ``call`` and return it with what it wrote."""
    task = asyncio.ensure_future(call)
    await iterations()
    return task, transport.take()


async def open_channel(connection: Connection, transport: FakeTransport) -> Channel:
    task, written = await request(transport, connection, connection.channel())
    [(number, name, _)] = written
    assert name == "Channel.Open"
    connection.data_received(frame(number, spec.Channel.OpenOk()))
    channel: Channel = await asyncio.wait_for(task, 1)
    assert channel.number == number and channel.is_open
    return channel


async def confirm_channel(connection: Connection, transport: FakeTransport) -> Channel:
    channel = await open_channel(connection, transport)
    task, written = await request(transport, connection, channel.confirm_select())
    assert written == [shape(channel.number, spec.Confirm.Select())]
    connection.data_received(frame(channel.number, spec.Confirm.SelectOk()))
    await asyncio.wait_for(task, 1)
    assert channel.confirming
    return channel


def _ignore(_: Message) -> None:
    pass


def _record(done: list[int], index: int, _: object) -> None:
    done.append(index)


async def stop(connection: Connection) -> None:
    connection.connection_lost(None)
    await iterations()


# -- the handshake ---------------------------------------------------------------------


async def test_the_handshake_opens_the_connection() -> None:
    connection, _ = await connected()
    assert not connection.is_closed and connection.frame_max == 131072
    await stop(connection)


async def test_a_refused_login_fails_opened_with_its_code_and_stage() -> None:
    connection = Connection(Credentials(password="wrong"), asyncio.get_running_loop())
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    connection.data_received(frame(0, spec.Connection.Start(mechanisms="PLAIN")))
    refusal = spec.Connection.Close(
        reply_code=403, reply_text="ACCESS_REFUSED - Login was refused", class_id=0, method_id=0
    )
    connection.data_received(frame(0, refusal))
    with pytest.raises(ConnectionClosed) as caught:
        await asyncio.wait_for(connection.opened, 1)
    assert (caught.value.reply_code, caught.value.stage) == (403, "login")
    assert transport.take()[-1] == shape(0, spec.Connection.CloseOk())
    assert transport.closed and connection.is_closed
    await iterations()


async def test_a_broker_that_is_not_amqp_0_9_1_drops_the_connection() -> None:
    connection = Connection(Credentials(), asyncio.get_running_loop())
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    connection.data_received(b"AMQP\x01\x01\x00\x0a")
    with pytest.raises(ConnectionClosed, match="does not speak AMQP 0-9-1"):
        await asyncio.wait_for(connection.opened, 1)
    assert transport.aborted
    await iterations()


# -- confirms --------------------------------------------------------------------------


async def test_confirms_resolve_in_order_with_multiple_acks_and_nacks() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    futures = [channel.expect_confirm(f"m{n}", mandatory=False) for n in range(1, 6)]
    assert [tag for tag, _ in futures] == [1, 2, 3, 4, 5]
    confirms = [future for _, future in futures]
    done: list[int] = []
    for index, future in enumerate(confirms, start=1):
        future.add_done_callback(functools.partial(_record, done, index))
    n = channel.number
    connection.data_received(frame(n, spec.Basic.Ack(delivery_tag=3, multiple=True)))
    assert [f.done() for f in confirms] == [True, True, True, False, False]
    connection.data_received(
        frame(n, spec.Basic.Nack(delivery_tag=4, requeue=False))
        + frame(n, spec.Basic.Ack(delivery_tag=5))
    )
    assert [f.result() for f in confirms[:3]] == [True, True, True]
    with pytest.raises(Nacked):
        confirms[3].result()
    assert confirms[4].result() is True
    await iterations()
    assert done == [1, 2, 3, 4, 5]
    assert channel.pending_confirms() == []
    # An ack nobody waits for (already settled, or a tag never seen) changes nothing.
    connection.data_received(frame(n, spec.Basic.Ack(delivery_tag=9, multiple=True)))
    await stop(connection)


async def test_a_returned_publish_fails_with_returned_and_its_ack_is_ignored() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    n = channel.number
    _, plain = channel.expect_confirm("m-plain", mandatory=True)
    tag, returned = channel.expect_confirm("m-ret", mandatory=True)
    assert tag == 2
    back = spec.Basic.Return(
        reply_code=312, reply_text="NO_ROUTE", exchange="vincent", routing_key="nobody"
    )
    connection.data_received(
        frame(n, back)
        + content(n, b"body", message_id="m-ret")
        + frame(n, spec.Basic.Ack(delivery_tag=2, multiple=True))
    )
    assert plain.result() is True
    error = returned.exception()
    assert isinstance(error, Returned)
    assert (error.reply_code, error.exchange, error.routing_key) == (312, "vincent", "nobody")
    channel.forget_return("m-ret", tag)
    # A return for a message id nobody waits for is dropped.
    connection.data_received(frame(n, back) + content(n, b"", message_id="m-unknown"))
    assert channel.pending_confirms() == []
    await stop(connection)


# -- consumers -------------------------------------------------------------------------


async def test_a_delivery_for_a_consumer_nobody_has_is_rejected_with_requeue() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    connection.data_received(deliver(channel.number, "ghost", 5, b"lost?"))
    await iterations()
    assert transport.take() == [
        shape(channel.number, spec.Basic.Reject(delivery_tag=5, requeue=True))
    ]
    await stop(connection)


async def test_consume_ok_and_deliveries_in_the_same_read_reach_the_callback() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    got: list[Message] = []
    task, written = await request(transport, connection, channel.basic_consume("q", got.append))
    [(number, name, fields)] = written
    assert (number, name, fields["queue"]) == (channel.number, "Basic.Consume", "q")
    tag = fields["consumer_tag"]
    connection.data_received(
        frame(number, spec.Basic.ConsumeOk(consumer_tag=tag))
        + deliver(number, tag, 1, b"one")
        + deliver(number, tag, 2, b"two")
    )
    assert await asyncio.wait_for(task, 1) == tag
    assert [(m.delivery_tag, m.body) for m in got] == [(1, b"one"), (2, b"two")]
    await iterations()
    assert transport.take() == []  # nothing rejected: both had their consumer
    await stop(connection)


async def test_a_consumer_the_broker_cancels_is_forgotten_and_reported() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    cancelled: list[str] = []
    channel.on_cancel.append(cancelled.append)
    task, written = await request(transport, connection, channel.basic_consume("q", lambda _: None))
    tag = written[0][2]["consumer_tag"]
    connection.data_received(frame(channel.number, spec.Basic.ConsumeOk(consumer_tag=tag)))
    await asyncio.wait_for(task, 1)
    connection.data_received(frame(channel.number, spec.Basic.Cancel(consumer_tag=tag)))
    assert cancelled == [tag] and tag not in channel.consumers
    connection.data_received(deliver(channel.number, tag, 3, b"late"))
    await iterations()
    assert transport.take() == [
        shape(channel.number, spec.Basic.Reject(delivery_tag=3, requeue=True))
    ]
    await stop(connection)


async def test_get_answers_a_message_or_none() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    n = channel.number
    task, _ = await request(transport, connection, channel.basic_get("q"))
    get_ok = spec.Basic.GetOk(delivery_tag=1, exchange="", routing_key="q", message_count=0)
    connection.data_received(frame(n, get_ok) + content(n, b"got"))
    message = await asyncio.wait_for(task, 1)
    assert isinstance(message, Message) and message.body == b"got"
    task, _ = await request(transport, connection, channel.basic_get("q"))
    connection.data_received(frame(n, spec.Basic.GetEmpty()))
    assert await asyncio.wait_for(task, 1) is None
    await stop(connection)


# -- closes ----------------------------------------------------------------------------


async def test_a_channel_the_broker_closes_fails_its_waiters_and_drops_its_writes() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    other = await open_channel(connection, transport)
    n = channel.number
    _, confirm = channel.expect_confirm("m", mandatory=False)
    declare, _ = await request(transport, connection, channel.queue_declare("q", passive=True))
    close = spec.Channel.Close(
        reply_code=404, reply_text="NOT_FOUND - no queue 'q'", class_id=50, method_id=10
    )
    connection.data_received(frame(n, close))
    assert transport.take() == [shape(n, spec.Channel.CloseOk())]
    with pytest.raises(ChannelClosed) as caught:
        await asyncio.wait_for(declare, 1)
    assert caught.value.reply_code == 404
    assert isinstance(confirm.exception(), ChannelClosed)
    assert channel.closing.done() and not channel.is_open
    assert n not in connection.channels and other.number in connection.channels
    channel.write(b"ignored")
    other.write(b"")
    with pytest.raises(ChannelClosed, match="NOT_FOUND"):
        await channel.queue_declare("q")
    await channel.close()  # a closed channel closes at once, sending nothing
    await iterations()
    assert transport.take() == []
    await stop(connection)


async def test_our_channel_close_waits_for_close_ok() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    n = channel.number
    closing, written = await request(transport, connection, channel.close())
    assert written == [
        shape(n, spec.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
    ]
    assert not closing.done() and channel.is_closed
    connection.data_received(deliver(n, "t", 1, b"in flight"))  # dropped: we are closing
    connection.data_received(frame(n, spec.Channel.CloseOk()))
    await asyncio.wait_for(closing, 1)
    assert channel.closing.result() is None
    await iterations()
    assert transport.take() == []
    await stop(connection)


async def test_our_close_crossing_the_brokers_is_not_sent_after_its_close_ok() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    n = channel.number
    closing = asyncio.ensure_future(channel.close())
    await asyncio.sleep(0)  # our close is written; the outbox sends at the iteration's end
    close = spec.Channel.Close(
        reply_code=406, reply_text="PRECONDITION_FAILED", class_id=0, method_id=0
    )
    connection.data_received(frame(n, close))  # read in the same iteration
    await asyncio.wait_for(closing, 1)
    await iterations()
    names = [name for channel, name, _ in transport.take() if channel == n]
    assert "Channel.CloseOk" in names
    assert "Channel.Close" not in names[names.index("Channel.CloseOk") :]
    await stop(connection)


async def test_a_channel_open_given_up_is_closed_when_its_open_ok_comes() -> None:
    connection, transport = await connected()
    opening, written = await request(transport, connection, connection.channel())
    [(number, _, _)] = written
    opening.cancel()  # e.g. asyncio.timeout around the open
    await iterations()
    connection.data_received(frame(number, spec.Channel.OpenOk()))
    await iterations()
    assert transport.take() == [
        shape(number, spec.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
    ]
    assert number in connection.channels  # until the broker's close-ok
    connection.data_received(frame(number, spec.Channel.CloseOk()))
    assert number not in connection.channels
    await stop(connection)


async def test_connection_lost_fails_requests_confirms_and_channel_opens() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    _, confirm = channel.expect_confirm("m", mandatory=False)
    declare, _ = await request(transport, connection, channel.queue_declare("q"))
    opening, _ = await request(transport, connection, connection.channel())
    connection.connection_lost(ConnectionResetError(104, "Connection reset by peer"))
    for waiter in (declare, opening):
        with pytest.raises(ConnectionClosed, match="Connection reset by peer"):
            await asyncio.wait_for(waiter, 1)
    assert isinstance(confirm.exception(), ConnectionClosed)
    assert isinstance(channel.closing.exception(), ConnectionClosed)
    assert isinstance(connection.closing.exception(), ConnectionClosed)
    assert connection.is_closed and connection.channels == {}
    with pytest.raises(ConnectionClosed, match="reset"):
        await connection.channel()
    channel.write(b"after")  # dropped: nothing more is written
    await iterations()
    assert transport.take() == []


async def test_the_broker_closing_the_connection_fails_everything_with_its_reason() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    _, confirm = channel.expect_confirm("m", mandatory=False)
    close = spec.Connection.Close(
        reply_code=320, reply_text="CONNECTION_FORCED - shutdown", class_id=0, method_id=0
    )
    connection.data_received(frame(0, close))
    assert transport.take() == [shape(0, spec.Connection.CloseOk())]
    assert transport.closed
    error = confirm.exception()
    assert isinstance(error, ConnectionClosed) and error.reply_code == 320
    assert connection.closing.exception() is not None
    await iterations()


async def test_our_close_sends_connection_close_and_waits_for_close_ok() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    channel.write(b"")  # an empty write: nothing goes out but the close
    closing, written = await request(transport, connection, connection.close(timeout=5))
    assert written == [
        shape(0, spec.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0))
    ]
    assert not closing.done()
    connection.data_received(frame(0, spec.Connection.CloseOk()))
    await asyncio.wait_for(closing, 2)
    assert connection.closing.result() is None and transport.closed
    assert channel.closing.done()


async def test_our_close_is_bounded_when_the_broker_does_not_answer() -> None:
    connection, transport = await connected()
    await asyncio.wait_for(connection.close(timeout=0.05), 2)
    assert transport.aborted and connection.closing.result() is None
    assert transport.take() == [
        shape(0, spec.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0))
    ]


async def test_a_socket_dropped_during_the_handshake_fails_opened() -> None:
    connection = Connection(Credentials(), asyncio.get_running_loop())
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    connection.data_received(frame(0, spec.Connection.Start(mechanisms="PLAIN")))
    connection.connection_lost(None)
    with pytest.raises(ConnectionClosed, match=r"during the handshake \(login\)") as caught:
        await asyncio.wait_for(connection.opened, 1)
    assert caught.value.reply_code == 0


async def test_an_answer_of_the_wrong_kind_fails_the_request() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    task, _ = await request(transport, connection, channel.queue_bind("q", "x", "k"))
    connection.data_received(frame(channel.number, spec.Queue.UnbindOk()))
    with pytest.raises(ChannelClosed, match=r"Queue\.UnbindOk"):
        await asyncio.wait_for(task, 1)
    connection.data_received(frame(channel.number, spec.Queue.BindOk()))  # nobody waits
    await stop(connection)


async def test_answers_go_to_requests_in_order_even_when_one_was_given_up() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    first, _ = await request(transport, connection, channel.queue_purge("a"))
    second, _ = await request(transport, connection, channel.queue_purge("b"))
    first.cancel()  # its caller's deadline passed; the broker still answers it
    await iterations()
    n = channel.number
    connection.data_received(
        frame(n, spec.Queue.PurgeOk(message_count=1))
        + frame(n, spec.Queue.PurgeOk(message_count=2))
    )
    assert await asyncio.wait_for(second, 1) == 2
    await stop(connection)


async def test_basic_cancel_forgets_the_consumer() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    task, written = await request(transport, connection, channel.basic_consume("q", _ignore))
    tag = written[0][2]["consumer_tag"]
    connection.data_received(frame(channel.number, spec.Basic.ConsumeOk(consumer_tag=tag)))
    await asyncio.wait_for(task, 1)
    cancel, written = await request(transport, connection, channel.basic_cancel(tag))
    assert written == [shape(channel.number, spec.Basic.Cancel(consumer_tag=tag))]
    connection.data_received(frame(channel.number, spec.Basic.CancelOk(consumer_tag=tag)))
    await asyncio.wait_for(cancel, 1)
    assert channel.consumers == {}
    await stop(connection)


async def test_a_no_ack_delivery_without_its_consumer_is_not_rejected() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    task, written = await request(
        transport, connection, channel.basic_consume("amq.rabbitmq.reply-to", _ignore, no_ack=True)
    )
    tag = written[0][2]["consumer_tag"]
    assert written[0][2]["no_ack"] is True
    connection.data_received(frame(channel.number, spec.Basic.ConsumeOk(consumer_tag=tag)))
    await asyncio.wait_for(task, 1)
    channel.consumers.clear()
    connection.data_received(deliver(channel.number, tag, 1, b"reply"))
    await iterations()
    assert transport.take() == []  # nothing to settle: the broker counts it delivered
    await stop(connection)


async def test_blocked_and_unblocked_are_reported() -> None:
    connection, _ = await connected()
    seen: list[tuple[bool, str, bool]] = []
    connection.on_blocked = lambda blocked, why: seen.append((blocked, why, connection.blocked))
    connection.data_received(frame(0, spec.Connection.Blocked(reason="low on memory")))
    connection.data_received(frame(0, spec.Connection.Unblocked()))
    assert seen == [(True, "low on memory", True), (False, "", False)]
    await stop(connection)


async def test_channel_flow_is_answered() -> None:
    connection, transport = await connected()
    channel = await open_channel(connection, transport)
    connection.data_received(frame(channel.number, spec.Channel.Flow(active=False)))
    assert transport.take() == [shape(channel.number, spec.Channel.FlowOk(active=False))]
    await stop(connection)


async def test_a_malformed_frame_drops_the_connection() -> None:
    connection, transport = await connected()
    channel = await confirm_channel(connection, transport)
    _, confirm = channel.expect_confirm("m", mandatory=False)
    bad = bytearray(frame(channel.number, spec.Basic.Ack(delivery_tag=1)))
    bad[-1] = 0
    connection.data_received(bytes(bad))
    assert transport.aborted
    error = confirm.exception()
    assert isinstance(error, ConnectionClosed) and "frame end" in str(error)
    await iterations()


async def test_heartbeats_are_sent_and_a_silent_broker_is_given_up() -> None:
    connection, transport = await connected()
    connection._beat()
    assert transport.take() == [shape(0, Heartbeat())]
    connection._last_read -= 3 * (connection.heartbeat + 1) + 1
    connection._beat()
    assert transport.aborted
    with pytest.raises(ConnectionClosed, match="missed heartbeats"):
        await asyncio.wait_for(asyncio.shield(connection.closing), 1)
    await iterations()
