"""The broker goes away and comes back: workers and clients recover by themselves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.apps.sink_process import SinkWorker, handled
from tests.poll import eventually_async, wait_until
from vincent_core import Client, ConnectionLost, Message, Vincent
from vincent_core.errors import PublishFailed, VincentError

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def test_every_confirmed_cast_survives_a_broker_restart(
    fresh_rabbit_node: Any, exchange: str, ns, tmp_path: Path
) -> None:
    url = fresh_rabbit_node.url
    sink, key = tmp_path / "sink.log", ns("jobs")
    worker = SinkWorker(url, exchange, key, sink, SINK_DELAY="0.001")
    confirmed: list[int] = []
    failed: list[str] = []
    restarted = threading.Event()

    async def produce() -> None:
        async with Client(url, exchange=exchange) as client:
            n = 0
            while n < 1500:
                try:
                    await client.cast(key, {"n": n}, timeout=30)
                    confirmed.append(n)
                except VincentError as exc:
                    failed.append(type(exc).__name__)
                n += 1
                if n == 500:
                    await asyncio.to_thread(fresh_rabbit_node.stop_app)
                    await asyncio.to_thread(fresh_rabbit_node.start_app)
                    restarted.set()

    try:
        asyncio.run(produce())
        assert restarted.is_set()
        wait_until(lambda: set(confirmed) <= set(handled(sink)), timeout=90)
        assert len(confirmed) >= 1400, failed
        assert worker.process.poll() is None, "the worker should have survived"
    finally:
        worker.stop()


async def test_calls_in_flight_fail_clearly_and_later_calls_work(
    fresh_rabbit_node: Any, exchange: str, ns
) -> None:
    url = fresh_rabbit_node.url
    app = Vincent(url, exchange=exchange)
    release, started = asyncio.Event(), asyncio.Event()

    @app.listen(ns("slow"))
    async def slow(msg: Message) -> str:
        if msg.body.get("wait"):
            started.set()
            await release.wait()
        return "done"

    async with app.running(grace=1), Client(url, exchange=exchange) as client:
        in_flight = asyncio.create_task(client.call(ns("slow"), {"wait": True}, timeout=60))
        await asyncio.wait_for(started.wait(), 30)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, fresh_rabbit_node.stop_app)
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(in_flight, 30)
        with pytest.raises(PublishFailed, match="not connected"):
            await client.cast(ns("slow"), {}, timeout=0.5)
        release.set()
        await loop.run_in_executor(None, fresh_rabbit_node.start_app)

        async def answered() -> bool:
            try:
                return bool(await client.call(ns("slow"), {}, timeout=5) == "done")
            except VincentError:
                return False

        await eventually_async(
            answered, 60, what=lambda: "the client never recovered", interval=0.2
        )
        assert client.state == "connected"
