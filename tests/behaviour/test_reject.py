"""Reject: a handler hands a message to another consumer; nobody wanting it ends it."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.behaviour.support import Broker, take_all
from vincent_core import Client, Message, Rejected, RemoteError, Vincent


async def test_reject_hands_the_message_to_another_worker(
    broker_url: str, exchange: str, ns
) -> None:
    apps = []
    for name in ("no", "yes"):
        app = Vincent(broker_url, exchange=exchange)

        @app.listen(ns("job"))
        async def job(msg: Message, name: str = name) -> str:
            if name == "no":
                msg.reject()
            return name

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        results = [await c.call(ns("job"), {"n": n}, timeout=15) for n in range(6)]
    assert results == ["yes"] * 6


async def test_reject_ping_pong_across_two_workers_ends(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    seen: Counter[str] = Counter()
    apps = []
    for name in ("w1", "w2"):
        app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

        @app.listen(ns("picky"))
        async def picky(msg: Message, name: str = name) -> None:
            seen[name] += 1
            msg.reject("not mine")

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        with pytest.raises(Rejected, match="not mine"):
            await c.call(ns("picky"), {}, timeout=15)
        await c.cast(ns("picky"), {"cast": True})
        [dead] = await take_all(broker, c, ns("dead"), 1)
    assert dead.headers["x-vincent-reason"] == "rejected"
    assert dead.headers["x-vincent-original-key"] == ns("picky")
    assert dead.headers["x-vincent-error-message"] == "not mine"
    assert dead.body == b'{"cast":true}'
    assert seen["w1"] >= 1 and seen["w2"] >= 1
    assert sum(seen.values()) <= 10


async def test_the_only_consumer_rejecting_ends_it_at_once(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    runs: list[str] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("alone"))
    def alone(msg: Message) -> None:  # a plain def rejects the same way
        runs.append(msg.key)
        msg.reject()

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(Rejected) as info:
            await client.call(ns("alone"), {})
        await client.cast(ns("alone"), {})
        [dead] = await take_all(broker, client, ns("dead"), 1)
    assert not isinstance(info.value, RemoteError)
    assert runs == [ns("alone"), ns("alone")]
    assert dead.headers["x-vincent-reason"] == "rejected"
    assert dead.headers["x-vincent-attempts"] == 1


async def test_a_broadcast_reject_is_final(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """Nobody else reads an instance's broadcast queue: its first reject ends it."""
    runs: list[object] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("news"), route_to="all")
    async def news(msg: Message) -> None:
        runs.append(msg.body)
        msg.reject("not interested")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("news"), {"n": 1})
        [dead] = await take_all(broker, client, ns("dead"), 1)
    assert runs == [{"n": 1}]
    assert dead.headers["x-vincent-reason"] == "rejected"
