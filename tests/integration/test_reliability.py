"""Retries, dead letters, reject, active, deadlines, size limits and Services."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.integration.support import eventually
from vincent_core import Client, Message, Rejected, Service, Vincent
from vincent_core.wire.envelope import build_cast

pytestmark = pytest.mark.rabbitmq


async def dead_letters(client: Client, queue: str, expected: int, timeout: float = 15.0) -> list:
    """Take ``expected`` dead letters (acked), polling with a deadline."""
    taken = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(taken) < expected:
        delivery = await client.take(queue)
        if delivery is None:
            assert loop.time() < deadline, f"only {len(taken)} dead letters arrived"
            await asyncio.sleep(0.05)
            continue
        await delivery.ack()
        taken.append(delivery.envelope)
    return taken


async def test_failing_cast_is_retried_then_dead_lettered(
    broker_url: str, exchange: str, ns
) -> None:
    attempts: list[int] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("flaky"), retries=2, retry_delays=(0.1, 0.2))
    async def flaky(msg: Message) -> None:
        attempts.append(msg.headers.get("x-vincent-attempts", 0))
        raise KeyError("missing")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("flaky"), {"n": 1}, headers={"trace": "abc"})
        [dead] = await dead_letters(client, ns("dead"), 1)
        assert await client.take(ns("dead")) is None
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
    assert headers["x-vincent-dead-at"]
    assert headers["trace"] == "abc"
    assert dead.body == b'{"n":1}'


async def test_handler_that_recovers_on_retry_is_not_dead(
    broker_url: str, exchange: str, ns
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
        await asyncio.wait_for(done.wait(), 15)
        info = await client.queue_info(ns("dead"))
        assert info is not None and info.messages == 0
    assert calls["n"] == 2


async def test_undecodable_body_goes_straight_to_dead_letters(
    broker_url: str, exchange: str, ns
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
        [dead] = await dead_letters(client, ns("dead"), 1)
        await eventually(lambda: handled == [{"ok": True}])
    assert dead.headers["x-vincent-reason"] == "undecodable"
    assert dead.body == b'{"x": '


async def test_too_large_body_is_dead_lettered(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("small"), max_body_size=100)
    async def small(msg: Message) -> str:
        return "ok"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("small"), {"x": 1}) == "ok"
        await client.cast(ns("small"), {"x": "y" * 200})
        [dead] = await dead_letters(client, ns("dead"), 1)
    assert dead.headers["x-vincent-reason"] == "too-large"


async def test_call_handler_error_is_not_retried(broker_url: str, exchange: str, ns) -> None:
    runs: list[int] = []
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("fail"))
    async def fail(msg: Message) -> None:
        runs.append(1)
        raise ValueError("no")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        from vincent_core import RemoteError

        with pytest.raises(RemoteError, match="no"):
            await client.call(ns("fail"), {})
        info = await client.queue_info(ns("fail"))
        assert info is not None and info.messages == 0
        dead = await client.queue_info(ns("dead"))
        assert dead is not None and dead.messages == 0
    assert runs == [1]


async def test_reject_ping_pong_across_two_workers_ends(broker_url: str, exchange: str, ns) -> None:
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
        [dead] = await dead_letters(c, ns("dead"), 1)
    assert dead.headers["x-vincent-reason"] == "rejected"
    assert seen["w1"] >= 1 and seen["w2"] >= 1
    assert sum(seen.values()) <= 10


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


async def test_inactive_worker_leaves_work_to_others(broker_url: str, exchange: str, ns) -> None:
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
        state["w1"] = False

        async def consumers() -> int:
            info = await c.queue_info(ns("work"))
            return info.consumers if info else -1

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await consumers() != 1:
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
        assert {await c.call(ns("work"), {}) for _ in range(10)} == {"w2"}
        state["w1"] = True
        deadline = loop.time() + 10
        while await consumers() != 2:
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
        names = {await c.call(ns("work"), {}) for _ in range(20)}
    assert names == {"w1", "w2"}


async def test_message_past_its_deadline_is_dropped_unhandled(
    broker_url: str, exchange: str, ns
) -> None:
    handled: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("timely"))
    async def timely(msg: Message) -> None:
        handled.append(msg.body)

    async with app.running() as _:
        pass
    async with Client(broker_url, exchange=exchange) as client:
        stale = build_cast(exchange, ns("timely"), {"stale": True}, ttl=60)
        stale.headers["x-vincent-deadline"] = 1  # long gone, though the broker keeps it
        await client.publish(stale)
        await client.cast(ns("timely"), {"fresh": True})
    async with app.running():
        await eventually(lambda: handled == [{"fresh": True}])
        assert app.worker is not None
        assert app.worker.stats()[ns("timely")]["expired"] == 1


async def test_service_model(broker_url: str, exchange: str, ns) -> None:
    events: asyncio.Queue[object] = asyncio.Queue()

    class FilePut(Service):
        bind_to = ns("file.put")
        active = "disk_not_full"

        def disk_not_full(self) -> bool:
            return True

        async def handle_cast(self) -> None:
            await events.put(("cast", self.params["file"]))

        def handle_call(self) -> object:
            return {"stored": self.params["file"], "nested": self.call(ns("echo"), 1)}

    class OnlyCall(Service):
        bind_to = ns("only.call")

        async def handle_call(self) -> object:
            if self.params.get("reject"):
                self.reject("nope")
            return "called"

    app = Vincent(broker_url, exchange=exchange)
    app.include(FilePut)
    app.include(OnlyCall)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    routes = {route.key: route for route in app.routes()}
    assert routes[ns("file.put")].handler.endswith("FilePut")
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("file.put"), {"file": "a"}) == {"stored": "a", "nested": 1}
        await client.cast(ns("file.put"), {"file": "b"})
        assert await asyncio.wait_for(events.get(), 10) == ("cast", "b")
        # With one method only, it serves casts too.
        assert await client.call(ns("only.call"), {}) == "called"
        with pytest.raises(Rejected):
            await client.call(ns("only.call"), {"reject": True})


async def test_a_slow_listener_does_not_stall_the_others(
    broker_url: str, exchange: str, ns
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
        await eventually(lambda: started == 2)
        # Both of slow's slots are taken; fast still answers, many times over.
        assert [await client.call(ns("fast"), n) for n in range(20)] == list(range(20))
        info = await client.queue_info(ns("slow"))
        assert info is not None and info.messages == 3
        assert started == 2
        release.set()
        await eventually(lambda: started == 5)


async def test_a_reply_that_cannot_be_encoded_is_an_error_reply(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("set"))
    async def returns_a_set(msg: Message) -> object:
        return {1, 2}

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        from vincent_core import RemoteError

        with pytest.raises(RemoteError) as info:
            await client.call(ns("set"), {}, timeout=10)
        assert info.value.type == "vincent_core.errors.EncodeError"
        queue = await client.queue_info(ns("set"))
        assert queue is not None and queue.messages == 0


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


async def test_a_handler_close_to_the_consumer_timeout_is_reported(
    broker_url: str, exchange: str, ns, caplog: pytest.LogCaptureFixture
) -> None:
    app = Vincent(broker_url, exchange=exchange, consumer_timeout=0.5)
    release = asyncio.Event()

    @app.listen(ns("long"))
    async def long(msg: Message) -> str:
        await release.wait()
        return "done"

    def warned() -> bool:
        return any("consumer_timeout" in r.getMessage() for r in caplog.records)

    with caplog.at_level("WARNING", logger="vincent.worker"):
        async with app.running(), Client(broker_url, exchange=exchange) as client:
            call = asyncio.create_task(client.call(ns("long"), {}, timeout=30))
            await eventually(warned)
            release.set()
            assert await call == "done"
    assert sum("consumer_timeout" in r.getMessage() for r in caplog.records) == 1
