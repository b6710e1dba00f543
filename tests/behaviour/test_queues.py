"""Queue tools the CLI builds on: taps, take, purge, inspecting, raw bodies."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.behaviour.support import Broker, consumers, depth
from vincent_core import Client, Message, NoRoute, Vincent
from vincent_core import transport as transports
from vincent_core.errors import ConfigurationError, EncodeError
from vincent_core.transport.base import Delivery, QueueSpec
from vincent_core.wire.envelope import Envelope


async def test_a_tap_sees_a_copy_and_the_worker_still_gets_it(
    broker_url: str, exchange: str, ns
) -> None:
    handled: asyncio.Queue[object] = asyncio.Queue()
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("file.put"))
    async def put(msg: Message) -> None:
        await handled.put(msg.body)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        async with client.listen(ns("file.*")) as tap:
            await client.cast(ns("file.put"), {"n": 1})
            await client.cast(ns("other"), {"n": 2})  # not matched, no route: dropped
            envelope = await tap.next(timeout=10)
            assert envelope is not None and envelope.routing_key == ns("file.put")
            assert await tap.next(timeout=0.2) is None
        assert await asyncio.wait_for(handled.get(), 10) == {"n": 1}


async def test_take_and_purge(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("held"))
    async def held(msg: Message) -> None:
        return None

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        for n in range(3):
            await client.cast(ns("held"), n)
        first = await client.take(ns("held"))
        assert first is not None and first.envelope.body == b"0"
        assert not first.redelivered
        await first.reject(requeue=True)  # back at the head, marked redelivered
        again = await client.take(ns("held"))
        assert again is not None and again.envelope.body == b"0" and again.redelivered
        await again.ack()
        assert await depth(client, ns("held")) == 2
        assert await client.purge(ns("held")) == 2
        assert await client.take(ns("held")) is None


async def test_unacked_messages_go_back_when_their_connection_closes(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("kept"))
    async def kept(msg: Message) -> None:
        return None

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("kept"), {"n": 1})
    # The only client on this URL: closing it closes the connection.
    taker = Client(broker_url, exchange=exchange)
    delivery = await taker.take(ns("kept"))
    assert delivery is not None and not delivery.redelivered
    await taker.close()
    async with Client(broker_url, exchange=exchange) as client:
        back = await client.take(ns("kept"))
        assert back is not None and back.redelivered
        await back.ack()


async def test_missing_queues_and_exchanges(broker_url: str, exchange: str, ns) -> None:
    async with Client(broker_url, exchange=exchange) as client:
        assert await client.queue_info(ns("missing")) is None
        with pytest.raises(ConfigurationError, match="NOT_FOUND"):
            await client.take(ns("missing"))
        with pytest.raises(NoRoute):
            # The default exchange routes to the queue named by the key: none here.
            await client.publish(Envelope("", ns("missing"), b"{}"), mandatory=True)
        with pytest.raises(ConfigurationError):
            await client.transport.bind(ns("missing"), exchange, "#")
        # The client keeps working after refused operations.
        assert await client.queue_info(ns("missing")) is None


async def test_raw_bodies_stay_bytes(broker_url: str, exchange: str, ns) -> None:
    got: asyncio.Queue[Message] = asyncio.Queue()
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("blob"))
    async def blob(msg: Message) -> bytes:
        await got.put(msg)
        body: bytes = msg.body
        return body[::-1]

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("blob"), b"\x00\x01\xff") == b"\xff\x01\x00"
        message = await asyncio.wait_for(got.get(), 10)
    assert message.body == b"\x00\x01\xff"
    assert message.envelope.content_type == "application/octet-stream"


async def test_headers_arrive_as_amqp_carries_them(broker_url: str, exchange: str, ns) -> None:
    """Field-table types: 64-bit doubles, bytes as long strings, byte arrays, UTC
    datetimes to the second; what AMQP cannot carry is refused when publishing."""
    got: asyncio.Queue[Message] = asyncio.Queue()
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("h"))
    async def handler(msg: Message) -> None:
        await got.put(msg)

    sent = {
        "int": 2**40,
        "float": 0.1,
        "bool": True,
        "list": [1, "a", None],
        "table": {"a": {"b": 1}},
        "when": dt.datetime(2024, 1, 1, 12, 0, 0, 123456),
        "text": "é",
        "big": 1e300,
        "raw": b"\xff\x00",
        "blob": bytearray(b"\x00\x01"),
    }
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("h"), {}, headers=sent)
        headers = (await asyncio.wait_for(got.get(), 10)).headers
        with pytest.raises(EncodeError, match="field table"):
            await client.cast(ns("h"), {}, headers={"tuple": (1, 2)})
        with pytest.raises(EncodeError, match="field table"):
            await client.cast(ns("h"), {}, headers={"huge": 2**70})
        assert await client.call(ns("h"), {}) is None  # the connection is fine
    assert headers["int"] == 2**40 and headers["bool"] is True
    assert headers["float"] == 0.1 and headers["big"] == 1e300
    assert headers["raw"] == b"\xff\x00" and type(headers["raw"]) is bytes
    assert headers["blob"] == b"\x00\x01" and type(headers["blob"]) is bytearray
    assert headers["list"] == [1, "a", None]
    assert headers["table"] == {"a": {"b": 1}}
    assert headers["when"] == dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert headers["text"] == "é"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (Envelope("t-no-such-exchange", "k", b"{}"), "NOT_FOUND"),
        (Envelope("", "k", b"{}", expiration="1.5"), "PRECONDITION_FAILED"),
        (Envelope("", "k", b"{}", reply_to="amq.rabbitmq.reply-to"), "PRECONDITION_FAILED"),
    ],
    ids=["missing-exchange", "bad-expiration", "reply-to-without-consumer"],
)
async def test_a_publish_the_broker_refuses(
    broker_url: str, exchange: str, envelope: Envelope, reason: str, ns
) -> None:
    """Refused, and only that publish: the same connection goes on casting and calling."""
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(ConfigurationError, match=reason):
            await client.publish(envelope)
        await client.cast(ns("echo"), "cast after")
        assert await client.call(ns("echo"), "call after", timeout=10) == "call after"


async def test_a_worker_whose_queue_is_deleted_declares_it_again(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """The broker cancels the consumer of a deleted queue while the connection lives
    on: the worker declares its queue and bindings again and goes on consuming."""
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("echo"), 1, timeout=10) == 1
        queue = app.listeners[0].queue_name()
        # Deleted by someone else (an operator), on a connection of its own.
        other = transports.create(broker_url)
        await other.connect()
        try:
            await other.delete_queue(queue)
        finally:
            await other.close()

        async def consumed_again() -> bool:
            return await consumers(client, queue) == 1

        await broker.eventually(consumed_again, timeout=20)
        assert await client.call(ns("echo"), 2, timeout=10) == 2


async def test_a_queue_deleted_by_its_own_consumer_stays_deleted(
    broker: Broker, broker_url: str, ns, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting a queue on the connection that consumes it ends that consumer for good:
    only a deletion by someone else is undone."""
    queue = ns("own")
    caplog.set_level("WARNING", logger="vincent.transport")
    transport = transports.create(broker_url)
    await transport.connect()
    try:
        await transport.declare_queue(QueueSpec(queue))

        async def drop(delivery: Delivery) -> None:
            await delivery.ack()

        await transport.consume(queue, drop, prefetch=1)
        await transport.delete_queue(queue)
        # A round trip to the broker, and a turn of the loop for memory://'s callbacks:
        # a restart would have been scheduled and tried by then.
        await transport.declare_queue(QueueSpec(ns("other")))
        for _ in range(3):
            await asyncio.sleep(0)
        assert await transport.inspect_queue(ns("other")) is not None
        assert await transport.inspect_queue(queue) is None
        await transport.delete_queue(ns("other"))
    finally:
        await transport.close()
    assert "consuming again" not in caplog.text and "again failed" not in caplog.text


async def test_a_tap_on_a_work_queue_takes_only_what_it_handed_out(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """``listen --queue``: each message handed out is acked when the next is asked for
    (or the tap stops); what it prefetched but never handed out goes back."""
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("work"))
    async def work(msg: Message) -> None:
        return None

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        for n in range(3):
            await client.cast(ns("work"), n)
        async with client.listen(queue=ns("work"), prefetch=10) as tap:
            first = await tap.next(timeout=10)
            second = await tap.next(timeout=10)
            assert first is not None and second is not None
            assert (first.body, second.body) == (b"0", b"1")
        await broker.eventually(lambda: _depth_is(client, ns("work"), 1))
        rest = await client.take(ns("work"))
        assert rest is not None and rest.envelope.body == b"2" and rest.redelivered
        await rest.ack()


async def _depth_is(client: Client, queue: str, expected: int) -> bool:
    return await depth(client, queue) == expected


async def test_one_consumer_gets_messages_in_order(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    got: list[int] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("fifo"), concurrency=1)
    def fifo(msg: Message) -> None:
        got.append(msg.body)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        for n in range(30):
            await client.cast(ns("fifo"), n)
        await broker.eventually(lambda: len(got) == 30)
    assert got == list(range(30))
