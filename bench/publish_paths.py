"""Micro-measurement: the confirmed-publish fast path against aiormq's public API.

``python -m bench.publish_paths`` starts a private RabbitMQ node, then publishes the
same 4,000 confirmed messages (500 in flight) to one queue twice over:

- ``vincent fast path``: ``AmqpTransport.publish`` on vincent's own connection (frames
  packed by ``transport/frames.py``, confirms kept by its channel, writes batched by
  its outbox);
- ``aiormq public API``: ``channel.basic_publish`` on a confirm channel, as a
  transport restricted to aiormq's public API would do it.

Prints messages per second for each (best of three).
"""

from __future__ import annotations

import asyncio
import time

import aiormq
from pamqp import commands as spec

from bench.node import private_node
from vincent_core.transport.amqp import AmqpTransport
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.envelope import build_cast

COUNT, IN_FLIGHT, ROUNDS = 4000, 500, 3


async def fast_path(url: str) -> float:
    transport = AmqpTransport(url)
    await transport.connect()
    await transport.declare_queue(QueueSpec("bench.paths", durable=False))
    await transport.purge_queue("bench.paths")
    envelope = build_cast("", "bench.paths", {"n": 1, "payload": "x" * 80})
    started = time.perf_counter()
    for _ in range(COUNT // IN_FLIGHT):
        await asyncio.gather(*(transport.publish(envelope) for _ in range(IN_FLIGHT)))
    elapsed = time.perf_counter() - started
    await transport.close()
    return COUNT / elapsed


async def public_api(url: str) -> float:
    connection = await aiormq.connect(url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.queue_declare("bench.paths", durable=False)
    await channel.queue_purge("bench.paths")
    envelope = build_cast("", "bench.paths", {"n": 1, "payload": "x" * 80})
    properties = spec.Basic.Properties(
        content_type=envelope.content_type,
        delivery_mode=envelope.delivery_mode,
        message_id=envelope.message_id,
    )
    started = time.perf_counter()
    for _ in range(COUNT // IN_FLIGHT):
        await asyncio.gather(
            *(
                channel.basic_publish(
                    envelope.body, routing_key="bench.paths", properties=properties
                )
                for _ in range(IN_FLIGHT)
            )
        )
    elapsed = time.perf_counter() - started
    await connection.close()
    return COUNT / elapsed


def main() -> None:
    with private_node(None) as url:
        for name, run in (("vincent fast path", fast_path), ("aiormq public API", public_api)):
            rates = [asyncio.run(run(url)) for _ in range(ROUNDS)]
            print(f"{name:20s} {max(rates):8.0f} confirmed publishes/s (best of {ROUNDS})")


if __name__ == "__main__":
    main()
