"""RabbitMQ's consumer_timeout: a handler running close to it is reported.

The reliability behaviour itself (retries, dead letters, reject, active, deadlines) is
in the behaviour suite (tests/behaviour), which runs on RabbitMQ and memory:// alike.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.support import eventually, queue_state
from vincent_core import Client, Message, Vincent

pytestmark = pytest.mark.rabbitmq


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


@pytest.mark.slow
async def test_a_worker_consumes_again_after_the_broker_closes_its_channel(
    fresh_rabbit_node, exchange: str, ns, caplog: pytest.LogCaptureFixture
) -> None:
    """RabbitMQ closes a consumer's channel when a delivery stays unacked past
    consumer_timeout (406, connection still up) and requeues the message. The worker
    consumes again on a new channel: the message comes back and later ones are handled."""
    node = fresh_rabbit_node
    # A private node, so the 1 s timeout (checked every 0.5 s instead of every minute)
    # touches nothing else; both are read by channels opened after this.
    await asyncio.to_thread(
        node.rabbitmqctl,
        "eval",
        "application:set_env(rabbit, consumer_timeout, 1000), "
        "application:set_env(rabbit, channel_tick_interval, 500).",
    )
    app = Vincent(node.url, exchange=exchange)
    seen: list[tuple[int, bool]] = []
    release = asyncio.Event()

    @app.listen(ns("slow"))
    async def slow(msg: Message) -> None:
        seen.append((msg.body["n"], msg.redelivered))
        if len(seen) == 1:
            await release.wait()  # past the timeout: the broker takes the message back

    with caplog.at_level("WARNING", logger="vincent.transport"):
        async with app.running(), Client(node.url, exchange=exchange) as client:
            await client.cast(ns("slow"), {"n": 1})
            await eventually(lambda: len(seen) >= 2, timeout=30)
            release.set()
            assert seen[:2] == [(1, False), (1, True)]
            await client.cast(ns("slow"), {"n": 2})
            await eventually(lambda: (2, False) in seen)
            messages, consumers = await queue_state(node.url, exchange, ns("slow"))
    assert consumers == 1 and messages == 0
    assert "PRECONDITION_FAILED" in caplog.text and "consuming again" in caplog.text
