"""Failed casts: retried with delays, then dead-lettered with every x-vincent-* header."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest

from tests.behaviour.support import Broker, depth, take_all
from vincent_core import Client, Message, RemoteError, Vincent
from vincent_core.wire.envelope import build_cast


async def test_failing_cast_is_retried_then_dead_lettered(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    attempts: list[int] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("flaky"), retries=2, retry_delays=(0.1, 0.2))
    async def flaky(msg: Message) -> None:
        attempts.append(msg.headers.get("x-vincent-attempts", 0))
        assert msg.key == ns("flaky")  # the original key, also on a retry
        raise KeyError("missing")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("flaky"), {"n": 1}, headers={"trace": "abc"})
        [dead] = await take_all(broker, client, ns("dead"), 1, advance=0.05)
        assert await depth(client, f"{ns('flaky')}.retry") == 0
    assert attempts == [0, 1, 2]
    headers = dead.headers
    assert headers["x-vincent-reason"] == "error"
    assert headers["x-vincent-original-key"] == ns("flaky")
    assert headers["x-vincent-original-exchange"] == exchange
    assert headers["x-vincent-queue"] == ns("flaky")
    assert headers["x-vincent-error-type"] == "KeyError"
    assert headers["x-vincent-error-message"] == "'missing'"
    assert "KeyError" in headers["x-vincent-error-traceback"]
    assert headers["x-vincent-attempts"] == 3
    dead_at = dt.datetime.fromisoformat(headers["x-vincent-dead-at"])
    assert abs(dt.datetime.now(dt.UTC) - dead_at) < dt.timedelta(minutes=5)
    assert headers["trace"] == "abc"
    assert dead.body == b'{"n":1}'
    assert dead.content_type == "application/json"


async def test_a_retry_waits_in_the_retry_queue(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """The delay happens in the broker: the worker is free meanwhile, and the message
    sits in ``<queue>.retry`` until its delay is over."""
    runs: list[int] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("later"), retries=1, retry_delays=(2.0,))
    async def later(msg: Message) -> str:
        runs.append(msg.headers.get("x-vincent-attempts", 0))
        if len(runs) == 1:
            raise RuntimeError("not yet")
        return "ok"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("later"), {})
        await broker.eventually(lambda: _has_depth(client, f"{ns('later')}.retry", 1))
        assert runs == [0]
        assert await client.call(ns("later"), {}) == "ok"  # the worker is not blocked
        await broker.eventually(lambda: len(runs) == 3, advance=0.1)
        assert await depth(client, ns("dead")) == 0
    assert sorted(runs) == [0, 0, 1]


async def _has_depth(client: Client, queue: str, expected: int) -> bool:
    return await depth(client, queue) == expected


async def test_handler_that_recovers_on_retry_is_not_dead(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    calls: Counter[str] = Counter()
    done = asyncio.Event()
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("once"), retry_delays=(0.1,))
    async def once(msg: Message) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient")
        done.set()

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("once"), {})
        await broker.eventually(done.is_set, advance=0.05)
        assert await depth(client, ns("dead")) == 0
    assert calls["n"] == 2


async def test_no_retries_dead_letters_on_the_first_failure(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    runs: list[object] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("fragile"), retries=0)
    def fragile(msg: Message) -> None:  # a plain def fails the same way
        runs.append(msg.body)
        raise ValueError("bad input")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("fragile"), [1])
        [dead] = await take_all(broker, client, ns("dead"), 1)
    assert runs == [[1]]
    assert dead.headers["x-vincent-attempts"] == 1
    assert dead.headers["x-vincent-error-type"] == "ValueError"
    assert dead.headers["x-vincent-error-message"] == "bad input"


async def test_undecodable_body_goes_straight_to_dead_letters(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    handled: list[object] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("json"))
    async def handler(msg: Message) -> None:
        handled.append(msg.body)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        broken = build_cast(exchange, ns("json"), {"x": 1})
        broken.body = b'{"x": '
        await client.publish(broken)
        await client.cast(ns("json"), {"ok": True})
        [dead] = await take_all(broker, client, ns("dead"), 1)
        await broker.eventually(lambda: handled == [{"ok": True}])
    assert dead.headers["x-vincent-reason"] == "undecodable"
    assert dead.headers["x-vincent-original-key"] == ns("json")
    assert dead.body == b'{"x": '


async def test_too_large_body_is_dead_lettered(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("small"), max_body_size=100)
    async def small(msg: Message) -> str:
        return "ok"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("small"), {"x": 1}) == "ok"
        await client.cast(ns("small"), {"x": "y" * 200})
        [dead] = await take_all(broker, client, ns("dead"), 1)
        # A call that is too large is answered with an error, and dead-lettered too.
        with pytest.raises(RemoteError, match="exceeds the limit"):
            await client.call(ns("small"), {"x": "y" * 200})
        [dead_call] = await take_all(broker, client, ns("dead"), 1)
    assert dead.headers["x-vincent-reason"] == "too-large"
    assert dead_call.headers["x-vincent-reason"] == "too-large"


async def test_call_handler_error_is_not_retried(broker_url: str, exchange: str, ns) -> None:
    runs: list[int] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("fail"))
    async def fail(msg: Message) -> None:
        runs.append(1)
        raise ValueError("no")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(RemoteError, match="no"):
            await client.call(ns("fail"), {})
        assert await depth(client, ns("fail")) == 0
        assert await depth(client, ns("dead")) == 0
    assert runs == [1]


async def test_a_broadcast_listener_retries_its_own_copy(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """Each instance of a ``route_to="all"`` listener retries its copy through a retry
    queue of its own; the others are not disturbed."""
    runs: Counter[str] = Counter()
    apps = []
    for name in ("steady", "shaky"):
        app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

        @app.listen(ns("news"), route_to="all", retry_delays=(0.1,))
        async def news(msg: Message, name: str = name) -> None:
            runs[name] += 1
            if name == "shaky" and runs[name] == 1:
                raise RuntimeError("hiccup")

        apps.append(app)
    async with apps[0].running(), apps[1].running(), Client(broker_url, exchange=exchange) as c:
        await c.cast(ns("news"), {"n": 1})
        await broker.eventually(lambda: runs["shaky"] == 2, advance=0.05)
        assert await depth(c, ns("dead")) == 0
    assert runs == {"steady": 1, "shaky": 2}


async def test_a_retried_message_carries_the_brokers_death_record(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """The retry queue dead-letters the copy back when its delay is over: the handler
    sees the broker's ``x-death`` for it, and the original exchange and key."""
    seen: list[Message] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("again"), retries=1, retry_delays=(0.1,))
    async def again(msg: Message) -> None:
        seen.append(msg)
        if len(seen) == 1:
            raise KeyError("once")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("again"), {})
        await broker.eventually(lambda: len(seen) == 2, advance=0.05)
    first, retried = seen
    assert "x-death" not in first.headers
    assert (retried.envelope.exchange, retried.key) == (exchange, ns("again"))
    assert not retried.redelivered and retried.envelope.expiration is None
    [death] = retried.headers["x-death"]
    assert death["reason"] == "expired" and death["count"] == 1
    assert death["queue"] == f"{ns('again')}.retry"
    assert death["exchange"] == "" and death["routing-keys"] == [f"{ns('again')}.retry"]
    assert death["original-expiration"] == "100"
    assert retried.headers["x-first-death-queue"] == f"{ns('again')}.retry"
    assert retried.headers["x-first-death-reason"] == "expired"
    assert retried.headers["x-vincent-attempts"] == 1
