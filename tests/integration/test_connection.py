"""RabbitMQ-only facts about connections: authentication, failover, refused declares.

Cast and call themselves are in the behaviour suite (tests/behaviour), which runs on
RabbitMQ and memory:// alike.
"""

from __future__ import annotations

import asyncio

import pytest

from vincent_core import Client, Message, Vincent
from vincent_core.errors import AuthenticationFailed, ConnectionFailed

pytestmark = pytest.mark.rabbitmq


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
