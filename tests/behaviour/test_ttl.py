"""Stale messages die: message TTLs, queue TTLs, and deadlines checked by the worker."""

from __future__ import annotations

import asyncio

import pytest

from tests.behaviour.support import Broker, depth
from vincent_core import CallTimeout, Client, Message, Vincent
from vincent_core.wire.envelope import build_cast


async def test_message_ttl_kills_stale_casts(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
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
        assert await depth(client, ns("stale")) == 2
        await broker.eventually(lambda: _has_depth(client, ns("stale"), 1), advance=0.1)
    async with app.running():
        await broker.eventually(lambda: got == [{"n": 2}])


async def _has_depth(client: Client, queue: str, expected: int) -> bool:
    return await depth(client, queue) == expected


async def test_listener_ttl_expires_messages_waiting_in_its_queue(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """A listener ``ttl`` is the queue's ``x-message-ttl``: it applies to every message,
    whoever sent it, with or without a TTL of its own."""
    got: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("short"), ttl=0.2)
    async def short(msg: Message) -> None:
        got.append(msg.body)

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("short"), {"n": 1})
        await client.cast(ns("short"), {"n": 2}, ttl=60)  # the sooner TTL wins
        await broker.eventually(lambda: _has_depth(client, ns("short"), 0), advance=0.1)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        # A consumer that keeps up gets what is fresh.
        await client.cast(ns("short"), {"n": 3})
        await broker.eventually(lambda: got == [{"n": 3}])


async def test_message_past_its_deadline_is_dropped_unhandled(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    handled: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("timely"))
    async def timely(msg: Message) -> None:
        handled.append(msg.body)

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        stale = build_cast(exchange, ns("timely"), {"stale": True}, ttl=60)
        stale.headers["x-vincent-deadline"] = 1  # long gone, though the broker keeps it
        await client.publish(stale)
        await client.cast(ns("timely"), {"fresh": True})
    async with app.running():
        await broker.eventually(lambda: handled == [{"fresh": True}])
        assert app.worker is not None
        assert app.worker.stats()[ns("timely")]["expired"] == 1


async def test_a_call_past_its_deadline_is_not_answered(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """A request whose caller gave up is never handled: it expires in the queue (its
    ``expiration``) or, should the broker still hand it over, the worker drops it (its
    ``x-vincent-deadline``)."""
    release = asyncio.Event()
    handled: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("busy"), concurrency=1)
    async def busy(msg: Message) -> object:
        handled.append(msg.body)
        if msg.body == "block":
            await release.wait()
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        blocked = asyncio.create_task(client.call(ns("busy"), "block", timeout=30))
        await broker.eventually(lambda: handled == ["block"])
        with pytest.raises(CallTimeout):
            await client.call(ns("busy"), "late", timeout=0.3)
        release.set()
        assert await blocked == "block"
        assert await client.call(ns("busy"), "next") == "next"
    assert handled == ["block", "next"]


async def test_casts_from_a_handler_do_not_inherit_the_call_deadline(
    broker_url: str, exchange: str, ns
) -> None:
    events: asyncio.Queue[Message] = asyncio.Queue()
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("work"))
    async def work(msg: Message) -> str:
        await msg.cast(ns("done"), {})
        return "ok"

    @app.listen(ns("done"))
    async def done(msg: Message) -> None:
        await events.put(msg)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("work"), {}, timeout=5) == "ok"
        event = await asyncio.wait_for(events.get(), 10)
    assert "x-vincent-deadline" not in event.headers
    assert event.envelope.expiration is None
    assert event.trace.chain == (ns("work"),)
