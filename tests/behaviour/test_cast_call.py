"""Cast and call: replies, remote errors, no route, timeouts, many callers at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from tests.behaviour.support import Broker, take_all
from vincent_core import (
    CallTimeout,
    Client,
    Message,
    NoRoute,
    RemoteError,
    SyncClient,
    Vincent,
)
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.envelope import Envelope


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


async def test_a_reply_that_cannot_be_encoded_is_an_error_reply(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("set"))
    async def returns_a_set(msg: Message) -> object:
        return {1, 2}

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(RemoteError) as info:
            await client.call(ns("set"), {}, timeout=10)
        queue = await client.queue_info(ns("set"))
    assert info.value.type == "vincent_core.errors.EncodeError"
    assert queue is not None and queue.messages == 0


async def test_call_to_unbound_key_raises_no_route_at_once(
    broker_url: str, exchange: str, ns
) -> None:
    async with Client(broker_url, exchange=exchange) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(NoRoute, match="nothing is bound"):
            await client.call(ns("nobody"), {}, timeout=30)
        assert asyncio.get_running_loop().time() - started < 10
        # A library cast to nowhere is a warning, not an error ...
        assert await client.cast(ns("nobody"), {})
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


async def test_an_unanswered_request_dies_in_the_queue(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """A call's timeout travels as its ``expiration``: nobody handles it afterwards."""
    handled: list[object] = []
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("late"))
    async def late(msg: Message) -> object:
        handled.append(msg.body)
        return msg.body

    async with app.running():
        pass
    async with Client(broker_url, exchange=exchange) as client:
        with pytest.raises(CallTimeout):
            await client.call(ns("late"), "stale", timeout=0.3)
        await broker.eventually(lambda: _depth_is(client, ns("late"), 0), advance=0.1)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("late"), "fresh") == "fresh"
    assert handled == ["fresh"]


async def _depth_is(client: Client, queue: str, expected: int) -> bool:
    info = await client.queue_info(queue)
    return info is not None and info.messages == expected


async def test_many_concurrent_calls_share_one_reply_consumer(
    broker_url: str, exchange: str, ns
) -> None:
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        results = await asyncio.gather(*(client.call(ns("echo"), i) for i in range(300)))
        assert results == list(range(300))
        assert client.dropped_replies == 0


async def test_late_reply_is_dropped_and_counted(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
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
        await broker.eventually(lambda: client.dropped_replies > before)
        assert await client.call(ns("late"), "fast") == "fast"
        assert client.dropped_replies == before + 1


async def test_a_plain_amqp_request_is_answered(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """A request without vincent headers, replying to a queue of the sender's own (the
    RabbitMQ tutorial RPC client), reaches the shared queue through the default exchange
    (its name is the key) and gets a reply with ``x-vincent-status``."""
    app, _ = make_app(broker_url, exchange, ns)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        transport = client.transport
        await transport.declare_queue(QueueSpec(ns("callback"), durable=False, exclusive=True))
        request = Envelope(
            "",
            ns("echo"),
            b'{"x": 1}',
            content_type="application/json",
            reply_to=ns("callback"),
            correlation_id="c-1",
        )
        await client.publish(request, mandatory=True)
        [reply] = await take_all(broker, client, ns("callback"), 1)
    assert reply.correlation_id == "c-1"
    assert reply.headers["x-vincent-status"] == "ok"
    assert reply.body == b'{"x":1}'


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
