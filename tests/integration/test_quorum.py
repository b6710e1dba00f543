"""Quorum queues: a poison message that keeps coming back ends in the dead-letter queue."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.poll import eventually, eventually_async
from vincent_core import Client, Message, Vincent
from vincent_core.transport.base import Delivery
from vincent_core.wire.failures import restore_dead_letter

pytestmark = pytest.mark.rabbitmq


async def test_quorum_listener_serves_and_dead_letters_at_the_delivery_limit(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("q"), queue_type="quorum", delivery_limit=2)
    async def handler(msg: Message) -> str:
        return "ok"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("q"), {}) == "ok"
    async with Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("q"), {"poison": True})
        # Each requeue stands for a worker that crashed while handling the message.
        deliveries = 0

        async def crash(delivery: Delivery) -> None:
            nonlocal deliveries
            deliveries += 1
            await delivery.reject(requeue=True)

        async def dead_lettered() -> bool:
            info = await client.queue_info(ns("dead"))
            return info is not None and info.messages == 1

        subscription = await client.transport.consume(ns("q"), crash, prefetch=1)
        await eventually_async(
            dead_lettered, 20, what=lambda: f"not dead-lettered after {deliveries} deliveries"
        )
        await subscription.cancel()
        dead = await client.take(ns("dead"))
        assert dead is not None
        await dead.ack()
    assert deliveries == 3
    assert dead.envelope.body == b'{"poison":true}'
    restored = restore_dead_letter(dead.envelope)
    assert (restored.exchange, restored.routing_key) == (exchange, ns("q"))
    assert "x-death" not in restored.headers


async def test_a_quorum_listener_retries_and_dead_letters_through_quorum_queues(
    broker_url: str, exchange: str, ns, rabbit_node
) -> None:
    # In a cluster a classic helper queue on a stopped node blocks a worker's reconnect:
    # a quorum listener's retry queue and the dead-letter queue are quorum queues too.
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))
    attempts: dict[str, int] = {}

    @app.listen(ns("q"), queue_type="quorum", retries=1, retry_delays=(0.05,))
    async def handler(msg: Message) -> None:
        attempts[msg["name"]] = attempts.get(msg["name"], 0) + 1
        if msg["name"] == "poison" or attempts[msg["name"]] == 1:
            raise RuntimeError("not this time")

    async def dead_lettered() -> bool:
        info = await client.queue_info(ns("dead"))
        return info is not None and info.messages == 1

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("q"), {"name": "flaky"})
        await client.cast(ns("q"), {"name": "poison"})
        await eventually(
            lambda: attempts == {"flaky": 2, "poison": 2},
            20,
            what=lambda: f"attempts so far: {attempts}",
        )
        await eventually_async(
            dead_lettered, 20, what=lambda: "the poison message was not dead-lettered"
        )
    listed = await asyncio.to_thread(
        rabbit_node.rabbitmqctl, "list_queues", "name", "type", "--formatter", "json", "--quiet"
    )
    types = {row["name"]: row["type"] for row in json.loads(listed) if row["name"].startswith(ns())}
    assert types[ns("q")] == "quorum"
    assert types[ns("dead")] == "quorum"
    assert [kind for name, kind in types.items() if "retry" in name] == ["quorum"]
