"""Prefetch per listener: a slow listener fills only its own window."""

from __future__ import annotations

import asyncio

from tests.behaviour.support import Broker, depth
from vincent_core import Client, Message, Vincent


async def test_a_slow_listener_does_not_stall_the_others(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    release = asyncio.Event()
    started = 0

    @app.listen(ns("slow"), concurrency=2)
    async def slow(msg: Message) -> None:
        nonlocal started
        started += 1
        await release.wait()

    @app.listen(ns("fast"), concurrency=1)
    def fast(msg: Message) -> object:
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        for n in range(5):
            await client.cast(ns("slow"), n)
        await broker.eventually(lambda: started == 2)
        # Both of slow's slots are taken; fast still answers, many times over.
        assert [await client.call(ns("fast"), n) for n in range(20)] == list(range(20))
        assert await depth(client, ns("slow")) == 3
        assert started == 2
        release.set()
        await broker.eventually(lambda: started == 5)


async def test_unfinished_messages_go_back_when_the_grace_period_ends(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """Stopping with handlers still running returns their messages to the queue; a
    worker started later handles them (redelivered)."""
    app = Vincent(broker_url, exchange=exchange)
    never = asyncio.Event()
    started: list[tuple[int, bool]] = []

    @app.listen(ns("stuck"), concurrency=2)
    async def stuck(msg: Message) -> None:
        started.append((msg.body, msg.redelivered))
        if not msg.redelivered:
            await never.wait()

    async with app.running(grace=0.2), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("stuck"), 1)
        await client.cast(ns("stuck"), 2)
        await broker.eventually(lambda: len(started) == 2)
    async with Client(broker_url, exchange=exchange) as client:
        assert await depth(client, ns("stuck")) == 2
    async with app.running():
        await broker.eventually(lambda: len(started) == 4)
    assert sorted(started[2:]) == [(1, True), (2, True)]
