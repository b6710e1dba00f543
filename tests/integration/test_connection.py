"""RabbitMQ-only facts about connections: authentication, failover, refused declares.

Cast and call themselves are in the behaviour suite (tests/behaviour), which runs on
RabbitMQ and memory:// alike.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.support import eventually
from vincent_core import Client, Message, Vincent
from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    PublishFailed,
)
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.envelope import Envelope

pytestmark = pytest.mark.rabbitmq


def waiting_app(broker_url: str, exchange: str, key: str) -> tuple[Vincent, asyncio.Event]:
    """An app whose ``key`` handler answers "done" once the event is set."""
    app = Vincent(broker_url, exchange=exchange)
    release = asyncio.Event()

    @app.listen(key)
    async def wait(msg: Message) -> str:
        await release.wait()
        return "done"

    return app, release


async def test_wrong_password_and_closed_port(broker_url: str) -> None:
    bad = broker_url.replace("guest:guest", "guest:wrong")
    with pytest.raises(AuthenticationFailed) as info:
        await Client(bad).connect()
    assert "wrong" not in str(info.value)
    assert "***" in str(info.value)
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        await Client("amqp://guest:guest@127.0.0.1:1/").connect()


async def test_several_urls_fail_over_to_a_live_node(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    urls = f"amqp://guest:guest@127.0.0.1:1/,{broker_url}"
    async with app.running(), Client(urls, exchange=exchange) as client:
        assert await client.call(ns("echo"), "hi") == "hi"
    with pytest.raises(ConnectionFailed, match="any of"):
        await Client("amqp://guest:x@127.0.0.1:1/,amqp://guest:y@127.0.0.1:2/").connect()


async def test_refused_declares_do_not_disturb_calls_in_flight(
    broker_url: str, exchange: str, ns
) -> None:
    app, release = waiting_app(broker_url, exchange, ns("wait"))

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        pending = asyncio.create_task(client.call(ns("wait"), {}, timeout=20))
        # A passive declare of a missing queue makes RabbitMQ close that channel.
        assert await client.queue_info(ns("missing")) is None
        assert await client.queue_info(ns("missing-too")) is None
        release.set()
        assert await pending == "done"
        assert await client.call(ns("wait"), {}) == "done"


async def test_a_refused_publish_fails_the_calls_waiting_on_its_channel_at_once(
    broker_url: str, exchange: str, ns
) -> None:
    """RabbitMQ closes the publish channel on a refused publish; the replies of calls
    in flight went with it (direct reply-to): they fail now, not at their timeout, and
    the next call goes out on the reopened channel."""
    app, release = waiting_app(broker_url, exchange, ns("wait"))

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        pending = asyncio.create_task(client.call(ns("wait"), {}, timeout=60))
        await eventually(lambda: bool(client._pending))
        with pytest.raises(ConfigurationError, match="NOT_FOUND"):
            await client.publish(Envelope(ns("no-such-exchange"), "k", b"{}"))
        with pytest.raises(ConnectionLost, match="reply channel"):
            await asyncio.wait_for(pending, 10)
        release.set()
        assert await client.call(ns("wait"), {}, timeout=10) == "done"


async def test_a_publish_channel_that_only_nacks_is_replaced(
    broker_url: str, exchange: str, ns, caplog: pytest.LogCaptureFixture
) -> None:
    """Nacks in a row with no ack between replace the publish channel (RabbitMQ 3.10
    can leave a channel nacking every publish after a quorum leader election); an ack
    between them resets the count. A full reject-publish queue stands in for it here."""
    app, release = waiting_app(broker_url, exchange, ns("wait"))

    full = ns("full")
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.transport.declare_queue(
            QueueSpec(full, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
        )
        await client.transport.bind(full, exchange, full)
        pending = asyncio.create_task(client.call(ns("wait"), {}, timeout=60))
        await eventually(lambda: bool(client._pending))
        for _ in range(2):
            with pytest.raises(PublishFailed, match="refused"):
                await client.cast(full, {})
        await client.cast(ns("wait"), {})  # an ack: the count starts again
        for _ in range(2):
            with pytest.raises(PublishFailed, match="refused"):
                await client.cast(full, {})
        assert not pending.done()
        assert "replaced the publish channel" not in caplog.text
        with pytest.raises(PublishFailed, match="refused"):
            await client.cast(full, {})
        with pytest.raises(ConnectionLost, match="3 publishes in a row were nacked"):
            await asyncio.wait_for(pending, 10)
        release.set()
        assert await client.call(ns("wait"), {}, timeout=10) == "done"
        await eventually(lambda: "replaced the publish channel" in caplog.text)
