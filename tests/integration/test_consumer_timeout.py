"""RabbitMQ's consumer_timeout: a handler running close to it is reported.

The reliability behaviour itself (retries, dead letters, reject, active, deadlines) is
in the behaviour suite (tests/behaviour), which runs on RabbitMQ and memory:// alike.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.support import eventually
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
