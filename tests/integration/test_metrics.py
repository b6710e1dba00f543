"""Prometheus metrics and the health endpoint against the real broker."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from vincent_core import Client, Message, RemoteError, Vincent, observe
from vincent_core.metrics import MetricsServer, app_health

pytestmark = pytest.mark.rabbitmq


def fetch(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_metrics_count_outcomes_and_health_follows_the_app(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("ok"))
    async def ok(msg: Message) -> str:
        return "ok"

    @app.listen(ns("bad"))
    async def bad(msg: Message) -> None:
        raise ValueError("bad")

    server = MetricsServer(0, health=app_health(app), host="127.0.0.1").start()
    try:
        status, _ = await asyncio.to_thread(fetch, server.port, "/healthz")
        assert status == 503
        async with app.running(), Client(broker_url, exchange=exchange) as client:
            for _ in range(3):
                assert await client.call(ns("ok"), {}) == "ok"
            with pytest.raises(RemoteError):
                await client.call(ns("bad"), {})
            status, text = await asyncio.to_thread(fetch, server.port, "/healthz")
            assert (status, text.strip()) == (200, "ok")
            _, metrics = await asyncio.to_thread(fetch, server.port, "/metrics")
        status, _ = await asyncio.to_thread(fetch, server.port, "/healthz")
        assert status == 503
    finally:
        server.stop()
    assert observe.get_observer() is None
    assert f'vincent_messages_total{{key="{ns("ok")}",outcome="handled"}} 3.0' in metrics
    assert f'vincent_messages_total{{key="{ns("bad")}",outcome="failed"}} 1.0' in metrics
    assert f'vincent_calls_total{{key="{ns("ok")}",outcome="ok"}} 3.0' in metrics
    assert f'vincent_calls_total{{key="{ns("bad")}",outcome="remote-error"}} 1.0' in metrics
    assert "vincent_handler_seconds_bucket" in metrics
    assert f'vincent_in_flight{{key="{ns("ok")}"}} 0.0' in metrics
