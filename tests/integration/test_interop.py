"""Plain AMQP clients (pika, written as in RabbitMQ's RPC tutorial) and vincent."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pika
import pytest

from vincent_core import CallTimeout, Client, Message, Vincent
from vincent_core.wire.deadlines import DEADLINE_HEADER, now_ms
from vincent_core.wire.replies import STATUS_HEADER

pytestmark = pytest.mark.rabbitmq


def tutorial_rpc_call(
    url: str, queue: str, body: bytes, timeout: float = 20
) -> tuple[bytes, dict[str, Any]]:
    """The RabbitMQ tutorial's RPC client: exclusive callback queue, default exchange."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        callback_queue = channel.queue_declare(queue="", exclusive=True).method.queue
        correlation_id = str(uuid.uuid4())
        answer: list[tuple[bytes, dict[str, Any]]] = []

        def on_response(ch, method, props, reply_body) -> None:
            if props.correlation_id == correlation_id:
                answer.append((reply_body, props.headers or {}))

        channel.basic_consume(queue=callback_queue, on_message_callback=on_response, auto_ack=True)
        channel.basic_publish(
            exchange="",
            routing_key=queue,
            properties=pika.BasicProperties(reply_to=callback_queue, correlation_id=correlation_id),
            body=body,
        )
        deadline = time.monotonic() + timeout
        while not answer and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.1)
        assert answer, "no reply from the vincent worker"
        return answer[0]
    finally:
        connection.close()


async def test_tutorial_rpc_client_calls_a_vincent_worker(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("fib"))
    def fib(msg: Message) -> int:
        n = int(msg.body)
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a

    async with app.running():
        body, headers = await asyncio.to_thread(tutorial_rpc_call, broker_url, ns("fib"), b"30")
    assert body == b"832040"
    assert headers[STATUS_HEADER] == "ok"


def tutorial_rpc_server(
    url: str, queue: str, ready: threading.Event, stop: threading.Event
) -> None:
    """The tutorial's RPC server: answers on the default exchange, no vincent headers."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue=queue)

    def on_request(ch, method, props, body) -> None:
        ch.basic_publish(
            exchange="",
            routing_key=props.reply_to,
            properties=pika.BasicProperties(correlation_id=props.correlation_id),
            body=str(int(body) * 2).encode(),
        )
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue=queue, on_message_callback=on_request)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.1)
    connection.close()


async def test_vincent_call_answered_by_tutorial_server(broker_url: str, ns) -> None:
    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(
        target=tutorial_rpc_server, args=(broker_url, ns("double"), ready, stop)
    )
    server.start()
    try:
        assert await asyncio.to_thread(ready.wait, 20)
        # The tutorial server listens on the default exchange, under the queue's name.
        async with Client(broker_url, exchange="") as client:
            assert await client.call(ns("double"), 21, timeout=10) == 42
    finally:
        stop.set()
        await asyncio.to_thread(server.join, 20)


async def test_foreign_message_without_content_type_is_decoded(
    broker_url: str, exchange: str, ns
) -> None:
    got: asyncio.Queue[object] = asyncio.Queue()
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("plain"))
    async def plain(msg: Message) -> None:
        await got.put(msg.body)

    def publish() -> None:
        connection = pika.BlockingConnection(pika.URLParameters(broker_url))
        channel = connection.channel()
        channel.basic_publish(exchange=exchange, routing_key=ns("plain"), body=b'{"file": "a"}')
        channel.basic_publish(exchange="", routing_key=ns("plain"), body=b"not json")
        connection.close()

    async with app.running():
        await asyncio.to_thread(publish)
        assert await asyncio.wait_for(got.get(), 10) == {"file": "a"}
        assert await asyncio.wait_for(got.get(), 10) == b"not json"


async def test_wire_format_of_cast_and_call(broker_url: str, exchange: str, ns) -> None:
    """What another language's client sees: the properties the contract promises."""
    async with Client(broker_url, exchange=exchange) as client:
        async with client.listen(ns("#")) as tap:
            await client.cast(ns("wire.cast"), {"k": 1}, ttl=5, headers={"h": "v"})
            cast = await tap.next(timeout=10)
            # The tap's queue makes the key routable; nobody answers.
            with pytest.raises(CallTimeout):
                await client.call(ns("wire.call"), {"k": 2}, timeout=0.3)
            call = await tap.next(timeout=10)
    assert cast is not None
    assert call is not None
    assert cast.exchange == exchange
    assert cast.routing_key == ns("wire.cast")
    assert cast.delivery_mode == 2
    assert cast.content_type == "application/json"
    assert cast.message_id and cast.timestamp
    assert cast.expiration == "5000"
    assert cast.headers["h"] == "v"
    deadline = cast.headers[DEADLINE_HEADER]
    assert isinstance(deadline, int) and 0 < deadline - now_ms() <= 5000
    assert cast.body == b'{"k":1}'
    assert call.reply_to and call.reply_to.startswith("amq.rabbitmq.reply-to")
    assert call.correlation_id
    assert call.expiration == "300"
    assert isinstance(call.headers[DEADLINE_HEADER], int)
