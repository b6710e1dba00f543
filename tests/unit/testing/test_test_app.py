"""``TestApp``: an app on a private memory:// broker, virtual time, recorded traffic."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from vincent_core import (
    Client,
    Message,
    NoRoute,
    Rejected,
    RemoteError,
    Service,
    SyncClient,
    Vincent,
)
from vincent_core.errors import ConfigurationError
from vincent_core.testing import TestApp, app_fixture
from vincent_core.transport.memory import broker_name, get_broker


def make_app() -> Vincent:
    """An app built for RabbitMQ, as a user's would be: the kit must not care."""
    app = Vincent("amqp://guest:guest@rabbit.invalid:5672/", exchange="shop")

    @app.on_start
    async def hello(client: Client) -> None:
        await client.cast("shop.up", {"ready": True})

    @app.listen("order.place")
    async def place(msg: Message) -> dict[str, Any]:
        price = await msg.call("price.get", {"item": msg["item"]})
        await msg.cast("order.placed", {"item": msg["item"], "price": price})
        return {"price": price}

    @app.listen("price.get")
    def price(msg: Message) -> int:  # a plain def, in a worker thread
        if msg["item"] == "unknown":
            raise LookupError(msg["item"])
        return len(msg["item"])

    @app.listen("order.flaky", retries=2, retry_delays=(30, 60))
    async def flaky(msg: Message) -> None:
        raise RuntimeError("warehouse down")

    @app.listen("order.picky")
    async def picky(msg: Message) -> None:
        msg.reject("not today")

    return app


async def test_the_app_runs_unchanged_on_memory() -> None:
    app = make_app()
    async with TestApp(app) as t:
        assert t.url.startswith("memory://vincent-test-")
        assert await t.call("order.place", {"item": "tea"}) == {"price": 3}
        with pytest.raises(RemoteError, match="LookupError"):
            await t.call("price.get", {"item": "unknown"})
        with pytest.raises(NoRoute):
            await t.call("nobody.listens", {})
        with pytest.raises(Rejected, match="not today"):
            await t.call("order.picky", {})
    assert app.url == "amqp://guest:guest@rabbit.invalid:5672/"
    assert app.client is None and app.worker is None  # stopped


async def test_casts_and_calls_are_recorded_by_whoever_made_them() -> None:
    async with TestApp(make_app()) as t:
        # The on_start hook's cast, before the test did anything (nobody listens to it).
        [up] = t.casts("shop.up")
        assert up.body == {"ready": True} and not up.routed
        await t.cast("order.place", {"item": "coffee"})
        [placed] = await t.wait_for_casts("order.placed")
        assert placed["price"] == 6
        assert [c.key for c in t.casts("order.*")] == ["order.place", "order.placed"]
        [nested] = t.calls("price.get")
        assert nested.body == {"item": "coffee"} and nested.is_call
        assert [m.key for m in t.sent("#")][-3:] == ["order.place", "price.get", "order.placed"]
        t.clear()
        assert t.sent() == []


async def test_idle_waits_for_the_handlers() -> None:
    app = Vincent("memory://", exchange="x")
    release = asyncio.Event()
    done: list[int] = []

    @app.listen("slow")
    async def slow(msg: Message) -> None:
        await release.wait()
        done.append(msg.body)

    async with TestApp(app) as t:
        await t.cast("slow", 1)
        with pytest.raises(TimeoutError, match="1 message"):
            await t.idle(timeout=0.2)
        with pytest.raises(TimeoutError, match="handled by the listener of 'slow'"):
            await t.wait_for_handled("slow", timeout=0.1)
        release.set()
        await t.idle()
        assert done == [1]
        assert t.stats("slow")["handled"] == 1
        await t.cast("slow", 2)
        assert (await t.wait_for_handled("slow", 2))["handled"] == 2
        assert done == [1, 2]
        with pytest.raises(KeyError, match="no listener"):
            t.stats("nothing")


async def test_advance_runs_retries_without_sleeping() -> None:
    started = time.monotonic()
    async with TestApp(make_app()) as t:
        await t.cast("order.flaky", {"n": 1})
        await t.idle()
        assert t.stats("order.flaky")["failed"] == 1
        await t.advance(29.9)
        assert t.stats("order.flaky")["failed"] == 1  # a delay is a minimum
        assert t.dead_letters() == []
        await t.advance(0.1 + 60)  # both retries fall due on the way
        assert t.stats("order.flaky")["failed"] == 3
        [dead] = t.dead_letters("order.*")
        assert t.dead_letters("other.#") == []
    assert dead.key == "order.flaky"
    assert (dead.reason, dead.attempts, dead.queue) == ("error", 3, "order.flaky")
    assert (dead.error_type, dead.error_message) == ("RuntimeError", "warehouse down")
    assert "raise RuntimeError" in dead.error_traceback
    assert dead.dead_at and dead.body == {"n": 1}
    assert time.monotonic() - started < 10  # 90 s of retry delays, not slept


async def test_advance_expires_messages_by_their_ttl() -> None:
    app = Vincent(exchange="x")
    accepting = False
    got: list[object] = []

    @app.listen("job", active=lambda: accepting, active_interval=0.05)
    async def job(msg: Message) -> None:
        got.append(msg.body)

    async with TestApp(app) as t:
        await t.cast("job", "short", ttl=5)
        await t.cast("job", "long", ttl=50)
        await t.idle()  # a paused listener's queue does not keep the app busy
        await t.advance(5)
        assert [e.body for e in t.broker.queue_messages("job")] == [b'"long"']
        accepting = True
        await t.wait_until(lambda: got == ["long"], what="the long-lived job")


async def test_each_test_app_has_a_broker_of_its_own() -> None:
    app = make_app()
    async with TestApp(app) as first:
        await first.cast("order.flaky", {})
        await first.idle()
        name = broker_name(first.url)
        broker = first.broker
    assert get_broker(name) is not broker  # thrown away: a fresh one next time
    async with TestApp(app) as second:
        assert second.url != first.url
        assert second.casts("order.*") == []
        assert "order.flaky.retry" not in second.broker.queue_names()


async def test_a_named_memory_url_is_shared_with_the_tests_own_clients() -> None:
    app = make_app()
    async with TestApp(app, url="memory://shop-tests") as t:
        async with Client("memory://shop-tests", exchange="shop") as client:
            assert await client.call("price.get", {"item": "ab"}) == 2
        assert [c.key for c in t.calls("price.get")] == ["price.get"]


async def test_blocking_code_under_test_reaches_the_app_too() -> None:
    """A web view using a ``SyncClient`` (its own loop thread) next to the app."""
    app = make_app()

    def view() -> object:
        with SyncClient("memory://shop-web", exchange="shop") as client:
            client.cast("order.place", {"item": "milk"})
            return client.call("price.get", {"item": "milk"})

    async with TestApp(app, url="memory://shop-web") as t:
        assert await asyncio.to_thread(view) == 4
        [placed] = await t.wait_for_casts("order.placed")
        assert placed.body == {"item": "milk", "price": 4}


def test_only_memory_urls() -> None:
    with pytest.raises(ConfigurationError, match="memory://"):
        TestApp(make_app(), url="amqp://localhost/")


async def test_not_running_is_a_clear_error() -> None:
    t = TestApp(make_app())
    with pytest.raises(RuntimeError, match="not running"):
        await t.cast("order.place", {})
    with pytest.raises(RuntimeError, match="not running"):
        await t.idle()


async def test_a_service_class_in_a_test_app() -> None:
    class Stock(Service):
        bind_to = "stock.check"

        async def handle_call(self) -> int:
            return 3 if self.params["item"] == "tea" else 0

    app = Vincent(exchange="x")
    app.include(Stock)
    async with TestApp(app) as t:
        assert await t.call("stock.check", {"item": "tea"}) == 3


shop = app_fixture(make_app())


async def test_the_fixture_factory(shop: TestApp) -> None:
    assert await shop.call("price.get", {"item": "abc"}) == 3
    assert shop.casts("shop.up")
