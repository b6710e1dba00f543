"""The pika references (issue 7's stretch targets): a blocking consumer, a blocking RPC client
and an echo server, with the same guarantees as the baseline."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pika

from bench.params import body

__all__ = ["drain", "latency", "serve_echo"]

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
JSON = "application/json"


def drain(url: str, queue: str, count: int, prefetch: int) -> float:
    """Consume ``count`` waiting messages, acking each; seconds from the first to the last."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    seen = 0
    first = last = 0.0

    def on_message(ch: Any, method: Any, properties: Any, payload: bytes) -> None:
        nonlocal seen, first, last
        orjson.loads(payload)
        channel.basic_ack(method.delivery_tag)
        seen += 1
        if seen == 1:
            first = time.perf_counter()
        if seen == count:
            last = time.perf_counter()
            channel.stop_consuming()

    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    connection.close()
    return max(last - first, 1e-9)


def latency(url: str, exchange: str, key: str, count: int, warmup: int) -> list[float]:
    """Sequential calls over direct reply-to, each publish confirmed; milliseconds each."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    replies: dict[str, bytes] = {}

    def on_reply(ch: Any, method: Any, properties: Any, payload: bytes) -> None:
        replies[properties.correlation_id] = payload

    channel.basic_consume(DIRECT_REPLY_TO, on_reply, auto_ack=True)
    times: list[float] = []
    for number in range(warmup + count):
        correlation_id = uuid.uuid4().hex
        started = time.perf_counter()
        properties = pika.BasicProperties(
            content_type=JSON,
            delivery_mode=2,
            correlation_id=correlation_id,
            reply_to=DIRECT_REPLY_TO,
            message_id=uuid.uuid4().hex,
            timestamp=int(time.time()),
            expiration="10000",
        )
        channel.basic_publish(exchange, key, orjson.dumps(body(number)), properties, mandatory=True)
        while correlation_id not in replies:
            connection.process_data_events(time_limit=None)
        orjson.loads(replies.pop(correlation_id))
        if number >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    connection.close()
    return times


def serve_echo(url: str, exchange: str, key: str, prefetch: int) -> None:
    """Reply to every call with its body (reply confirmed before the ack). Runs forever."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_qos(prefetch_count=prefetch)
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(key, durable=True)
    channel.queue_bind(key, exchange, routing_key=key)

    def on_request(ch: Any, method: Any, properties: Any, payload: bytes) -> None:
        reply = pika.BasicProperties(content_type=JSON, correlation_id=properties.correlation_id)
        channel.basic_publish("", properties.reply_to, orjson.dumps(orjson.loads(payload)), reply)
        channel.basic_ack(method.delivery_tag)

    channel.basic_consume(key, on_request)
    print("ready", flush=True)
    channel.start_consuming()
