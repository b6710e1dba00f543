"""Cast and call against the private RabbitMQ node."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from vincent_core import (
    CallTimeout,
    Client,
    Message,
    NoRoute,
    RemoteError,
    SyncClient,
    Vincent,
)
from vincent_core.errors import AuthenticationFailed, ConnectionFailed

pytestmark = pytest.mark.rabbitmq


class DiskFull(Exception):
    pass


def make_app(
    url: str, exchange: str, ns: Callable[[str], str]
) -> tuple[Vincent, asyncio.Queue[object]]:
    app = Vincent(url, exchange=exchange)
    seen: asyncio.Queue[object] = asyncio.Queue()

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    @app.listen(ns("bytes"))
    def raw(msg: Message) -> bytes:
        return bytes(range(256))

    @app.listen(ns("none"))
    async def nothing(msg: Message) -> None:
        return None

    @app.listen(ns("boom"))
    async def boom(msg: Message) -> None:
        raise DiskFull(f"no space for {msg['file']}")

    @app.listen(ns("event"))
    async def event(msg: Message) -> None:
        await seen.put(msg.body)

    return app, seen


async def test_call_returns_the_handlers_value(broker_url: str, exchange: str, ns) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("echo"), {"a": [1, 2]}) == {"a": [1, 2]}
        assert await client.call(ns("bytes")) == bytes(range(256))
        assert await client.call(ns("none")) is None


async def test_cast_is_confirmed_and_handled(broker_url: str, exchange: str, ns) -> None:
    app, seen = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        message_id = await client.cast(ns("event"), {"n": 1})
        assert len(message_id) == 32
        assert await asyncio.wait_for(seen.get(), 10) == {"n": 1}
        await client.to[ns("event")](n=2)
        assert await asyncio.wait_for(seen.get(), 10) == {"n": 2}


async def test_remote_error_carries_type_message_and_traceback(
    broker_url: str, exchange: str, ns
) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(RemoteError) as info:
            await client.call(ns("boom"), {"file": "/x"})
    assert info.value.type == f"{__name__}.DiskFull"
    assert info.value.message == "no space for /x"
    assert "raise DiskFull" in info.value.traceback
    assert "Remote traceback" in str(info.value)


async def test_call_to_unbound_key_raises_no_route_at_once(
    broker_url: str, exchange: str, ns
) -> None:
    async with Client(broker_url, exchange=exchange) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(NoRoute, match="nothing is bound"):
            await client.call(ns("nobody"), {}, timeout=30)
        assert asyncio.get_running_loop().time() - started < 10
        # A library cast to nowhere is a warning, not an error ...
        await client.cast(ns("nobody"), {})
        # ... unless the caller insists on a route.
        with pytest.raises(NoRoute):
            await client.cast(ns("nobody"), {}, require_route=True)


async def test_timeout_names_a_queue_without_consumers(broker_url: str, exchange: str, ns) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running():
        pass  # declares and binds the queues, then stops consuming
    async with Client(broker_url, exchange=exchange) as client:
        with pytest.raises(CallTimeout, match="no consumers") as info:
            await client.call(ns("echo"), {}, timeout=0.5)
    assert isinstance(info.value, TimeoutError)


async def test_many_concurrent_calls_share_one_reply_consumer(
    broker_url: str, exchange: str, ns
) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        results = await asyncio.gather(*(client.call(ns("echo"), i) for i in range(300)))
        assert results == list(range(300))
        assert client.dropped_replies == 0


def test_sync_client_is_thread_safe(broker_url: str, exchange: str, ns) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    ready, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        async def main() -> None:
            async with app.running():
                ready.set()
                await asyncio.get_running_loop().run_in_executor(None, done.wait)

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            ready.set()

    server = threading.Thread(target=serve)
    server.start()
    try:
        assert ready.wait(30)
        results: dict[int, object] = {}
        with SyncClient(broker_url, exchange=exchange) as client:

            def work(n: int) -> None:
                results[n] = client.call(ns("echo"), {"n": n})

            threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert client.cast(ns("echo"), {"x": 1})
            client.to[ns("echo")](x=2)
            with pytest.raises(RemoteError):
                client.call(ns("boom"), {"file": "f"})
        assert results == {n: {"n": n} for n in range(8)}
    finally:
        done.set()
        server.join(30)
    assert not errors


async def test_wrong_password_and_closed_port(broker_url: str) -> None:
    bad = broker_url.replace("guest:guest", "guest:wrong")
    with pytest.raises(AuthenticationFailed) as info:
        await Client(bad).connect()
    assert "wrong" not in str(info.value)
    assert "***" in str(info.value)
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        await Client("amqp://guest:guest@127.0.0.1:1/").connect()


async def test_late_reply_is_dropped_and_counted(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)
    release = asyncio.Event()

    @app.listen(ns("late"))
    async def late(msg: Message) -> object:
        if msg.body == "slow":
            await release.wait()
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        before = client.dropped_replies
        with pytest.raises(CallTimeout):
            await client.call(ns("late"), "slow", timeout=0.3)
        release.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while client.dropped_replies == before:
            assert loop.time() < deadline, "the late reply never arrived"
            await asyncio.sleep(0.02)
        assert await client.call(ns("late"), "fast") == "fast"
        assert client.dropped_replies == before + 1


async def test_several_urls_fail_over_to_a_live_node(broker_url: str, exchange: str, ns) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    urls = f"amqp://guest:guest@127.0.0.1:1/,{broker_url}"
    async with app.running(), Client(urls, exchange=exchange) as client:
        assert await client.call(ns("echo"), "hi") == "hi"
    with pytest.raises(ConnectionFailed, match="any of"):
        await Client("amqp://guest:x@127.0.0.1:1/,amqp://guest:y@127.0.0.1:2/").connect()


async def test_refused_declares_do_not_disturb_calls_in_flight(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    release = asyncio.Event()

    @app.listen(ns("wait"))
    async def wait(msg: Message) -> str:
        await release.wait()
        return "done"

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        pending = asyncio.create_task(client.call(ns("wait"), {}, timeout=20))
        # A passive declare of a missing queue makes RabbitMQ close that channel.
        assert await client.queue_info(ns("missing")) is None
        assert await client.queue_info(ns("missing-too")) is None
        release.set()
        assert await pending == "done"
        assert await client.call(ns("wait"), {}) == "done"
