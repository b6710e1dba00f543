"""``active``: a listener whose check is false stops consuming and leaves the work."""

from __future__ import annotations

from collections import Counter

from tests.behaviour.support import Broker, consumers, depth
from vincent_core import Client, Message, Vincent


async def test_inactive_worker_leaves_work_to_others(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    served: Counter[str] = Counter()
    state = {"w1": True}
    apps = []
    for name in ("w1", "w2"):
        app = Vincent(broker_url, exchange=exchange)
        active = (lambda: state["w1"]) if name == "w1" else None

        @app.listen(ns("work"), active=active, active_interval=0.1)
        async def work(msg: Message, name: str = name) -> str:
            served[name] += 1
            return name

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        assert await consumers(c, ns("work")) == 2
        state["w1"] = False
        await broker.eventually(lambda: _has_consumers(c, ns("work"), 1))
        assert {await c.call(ns("work"), {}) for _ in range(10)} == {"w2"}
        state["w1"] = True
        await broker.eventually(lambda: _has_consumers(c, ns("work"), 2))
        names = {await c.call(ns("work"), {}) for _ in range(20)}
    assert names == {"w1", "w2"}


async def _has_consumers(client: Client, queue: str, expected: int) -> bool:
    return await consumers(client, queue) == expected


async def test_inactive_at_start_holds_the_messages_until_active(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """A paused listener's queue exists and keeps its messages; they are handled once
    the check turns true."""
    handled: list[object] = []
    accepting = False
    app = Vincent(broker_url, exchange=exchange)

    def ready() -> bool:
        return accepting

    @app.listen(ns("put"), active=ready, active_interval=0.1)
    async def put(msg: Message) -> None:
        handled.append(msg.body)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await consumers(client, ns("put")) == 0
        for n in range(3):
            await client.cast(ns("put"), n)
        assert await depth(client, ns("put")) == 3
        assert handled == []
        accepting = True
        await broker.eventually(lambda: handled == [0, 1, 2])
        assert await consumers(client, ns("put")) == 1


async def test_a_check_that_raises_counts_as_inactive(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    broken = True
    app = Vincent(broker_url, exchange=exchange)

    def check() -> bool:
        if broken:
            raise OSError("cannot stat the disk")
        return True

    @app.listen(ns("checked"), active=check, active_interval=0.1)
    async def checked(msg: Message) -> str:
        return "served"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await consumers(client, ns("checked")) == 0
        broken = False
        await broker.eventually(lambda: _has_consumers(client, ns("checked"), 1))
        assert await client.call(ns("checked"), {}) == "served"
