"""Queues per route_to, wildcards, round-robin, broadcast and TTLs on RabbitMQ."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import pytest

from tests.integration.support import eventually
from vincent_core import Client, Message, Vincent
from vincent_core.transport.base import QueueSpec

pytestmark = pytest.mark.rabbitmq


async def test_competing_workers_share_a_queue_round_robin(
    broker_url: str, exchange: str, ns
) -> None:
    counts: Counter[str] = Counter()
    apps = []
    for name in ("w1", "w2"):
        app = Vincent(broker_url, exchange=exchange)

        @app.listen(ns("job"), concurrency=1)
        async def job(msg: Message, name: str = name) -> None:
            counts[name] += 1
            await asyncio.sleep(0.005)

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        await asyncio.gather(*(c.cast(ns("job"), {"n": n}) for n in range(40)))
        await eventually(lambda: sum(counts.values()) == 40)
    assert counts["w1"] >= 10 and counts["w2"] >= 10, counts


async def test_broadcast_reaches_every_instance(broker_url: str, exchange: str, ns) -> None:
    counts: Counter[str] = Counter()
    apps = []
    for name in ("w1", "w2", "w3"):
        app = Vincent(broker_url, exchange=exchange)

        @app.listen(ns("event"), route_to="all")
        async def event(msg: Message, name: str = name) -> None:
            counts[name] += 1

        apps.append(app)
    async with apps[0].running(), apps[1].running(), apps[2].running():
        async with Client(broker_url, exchange=exchange) as client:
            for n in range(5):
                await client.cast(ns("event"), {"n": n})
            await eventually(lambda: sum(counts.values()) == 15)
    assert counts == {"w1": 5, "w2": 5, "w3": 5}


async def test_wildcards_and_custom_queue_names(broker_url: str, exchange: str, ns) -> None:
    got: list[str] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("file.*"), queue=ns("files"))
    async def files(msg: Message) -> None:
        got.append(msg.key)

    @app.listen(ns("audit.#"))
    async def audit(msg: Message) -> str:
        return msg.key

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("file.get"), {})
        await client.cast(ns("file.put"), {})
        await client.cast(ns("file.get.deep"), {})  # no '*' match: dropped with a warning
        assert await client.call(ns("audit.a.b.c"), {}) == ns("audit.a.b.c")
        await eventually(lambda: len(got) == 2)
        info = await client.queue_info(ns("files"))
        assert info is not None and info.consumers == 1
        assert await client.queue_info(ns("audit.#")) is not None
    assert sorted(got) == [ns("file.get"), ns("file.put")]


async def test_per_host_queue(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("cache.flush"), route_to="host")
    async def flush(msg: Message) -> str:
        return socket.gethostname()

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("cache.flush"), {}) == socket.gethostname()
        info = await client.queue_info(f"{ns('cache.flush')}.{socket.gethostname()}")
        assert info is not None and info.consumers == 1


async def test_message_ttl_kills_stale_casts(broker_url: str, exchange: str, ns) -> None:
    """A cast with a TTL that nobody consumes in time dies in the queue."""
    got: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("stale"))
    async def stale(msg: Message) -> None:
        got.append(msg.body)

    async with app.running():
        pass  # declare the queue, then stop consuming
    async with Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("stale"), {"n": 1}, ttl=0.2)
        await client.cast(ns("stale"), {"n": 2})
        info = await client.queue_info(ns("stale"))
        assert info is not None and info.messages == 2

        async def depth() -> int:
            queue = await client.queue_info(ns("stale"))
            return queue.messages if queue else -1

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await depth() != 1:
            assert loop.time() < deadline, "the stale message never expired"
            await asyncio.sleep(0.05)
    async with app.running():
        await eventually(lambda: got == [{"n": 2}])


async def test_listener_ttl_becomes_queue_message_ttl(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("ttl"), ttl=1.5)
    async def handler(msg: Message) -> None:
        return None

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        # Re-declaring with the same x-message-ttl succeeds; a different one is refused.
        transport = client.transport
        await transport.declare_queue(QueueSpec(ns("ttl"), arguments={"x-message-ttl": 1500}))
        from vincent_core.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="x-message-ttl"):
            await transport.declare_queue(QueueSpec(ns("ttl"), arguments={"x-message-ttl": 10}))
        # The connection survives the refused declare.
        assert await client.queue_info(ns("ttl")) is not None
