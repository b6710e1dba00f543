"""Where messages go: round-robin, broadcast, per host, wildcards, queue names."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import pytest

from tests.behaviour.support import Broker, consumers
from vincent_core import Client, Message, NoRoute, Vincent
from vincent_core.errors import ConfigurationError
from vincent_core.transport.base import QueueSpec


async def test_competing_workers_share_a_queue_round_robin(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    counts: Counter[str] = Counter()
    apps = []
    for name in ("w1", "w2"):
        app = Vincent(broker_url, exchange=exchange)

        @app.listen(ns("job"), concurrency=1)
        async def job(msg: Message, name: str = name) -> None:
            counts[name] += 1
            await asyncio.sleep(0.005)  # some work, so that both workers are busy

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        await asyncio.gather(*(c.cast(ns("job"), {"n": n}) for n in range(40)))
        await broker.eventually(lambda: sum(counts.values()) == 40)
    assert counts["w1"] >= 10 and counts["w2"] >= 10, counts


async def test_broadcast_reaches_every_instance(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
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
            await broker.eventually(lambda: sum(counts.values()) == 15)
    assert counts == {"w1": 5, "w2": 5, "w3": 5}


async def test_broadcast_queues_go_with_their_worker(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """An instance's exclusive queue disappears when it stops: nothing piles up for it."""
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("event"), route_to="all")
    async def event(msg: Message) -> None:
        return None

    async with app.running():
        assert app.worker is not None
        [queue] = [running.queue for running in app.worker.running]
        assert queue.startswith(f"{ns('event')}.all.{socket.gethostname()}.")
    async with Client(broker_url, exchange=exchange) as client:
        await broker.eventually(lambda: _missing(client, queue))
        # Nothing is bound any more: a cast to it finds no route.
        with pytest.raises(NoRoute):
            await client.cast(ns("event"), {}, require_route=True)


async def _missing(client: Client, queue: str) -> bool:
    return await client.queue_info(queue) is None


async def test_wildcards_and_custom_queue_names(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
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
        assert await client.call(ns("audit"), {}) == ns("audit")  # '#' is zero words too
        await broker.eventually(lambda: len(got) == 2)
        assert await consumers(client, ns("files")) == 1
        assert await client.queue_info(ns("audit.#")) is not None
    assert sorted(got) == [ns("file.get"), ns("file.put")]


async def test_per_host_queue(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("cache.flush"), route_to="host")
    async def flush(msg: Message) -> str:
        return socket.gethostname()

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("cache.flush"), {}) == socket.gethostname()
        assert await consumers(client, f"{ns('cache.flush')}.{socket.gethostname()}") == 1


async def test_a_queue_redeclared_with_other_arguments_is_refused(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("ttl"), ttl=1.5)
    async def handler(msg: Message) -> None:
        return None

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        # Re-declaring with the same x-message-ttl succeeds; a different one is refused.
        transport = client.transport
        await transport.declare_queue(QueueSpec(ns("ttl"), arguments={"x-message-ttl": 1500}))
        with pytest.raises(ConfigurationError, match="x-message-ttl"):
            await transport.declare_queue(QueueSpec(ns("ttl"), arguments={"x-message-ttl": 10}))
        # The connection survives the refused declare.
        assert await client.queue_info(ns("ttl")) is not None

    other = Vincent(broker_url, exchange=exchange)
    other.listen(ns("ttl"), ttl=3)(handler)
    with pytest.raises(ConfigurationError, match="x-message-ttl"):
        async with other.running():
            pass


async def test_per_host_queues_are_shared_by_the_processes_of_a_host(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """Two workers on one host share its queue: each message is handled once."""
    counts: Counter[str] = Counter()
    apps = []
    for name in ("w1", "w2"):
        app = Vincent(broker_url, exchange=exchange)

        @app.listen(ns("cache.drop"), route_to="host", concurrency=1)
        async def drop(msg: Message, name: str = name) -> None:
            counts[name] += 1
            await asyncio.sleep(0.005)  # some work, so that both workers are busy

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        assert await consumers(c, f"{ns('cache.drop')}.{socket.gethostname()}") == 2
        for n in range(20):
            await c.cast(ns("cache.drop"), n)
        await broker.eventually(lambda: sum(counts.values()) == 20)
    assert counts["w1"] >= 1 and counts["w2"] >= 1, counts
