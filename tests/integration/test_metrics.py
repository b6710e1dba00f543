"""Prometheus metrics and the health endpoint against the real broker."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest

from tests.integration.support import eventually
from vincent_core import (
    CallTimeout,
    Client,
    Message,
    NoRoute,
    Rejected,
    RemoteError,
    Vincent,
    observe,
)
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


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


async def test_every_outcome_and_call_failure_is_counted(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("flaky"), retries=1, retry_delays=(0.05,))
    async def flaky(msg: Message) -> None:
        raise RuntimeError("always")

    @app.listen(ns("picky"))
    async def picky(msg: Message) -> None:
        msg.reject()

    @app.listen(ns("slow"))
    async def slow(msg: Message) -> str:
        await asyncio.sleep(1.0)
        return "late"

    @app.listen(ns("fine"))
    async def fine(msg: Message) -> str:
        return "fine"

    server = MetricsServer(0, health=app_health(app), host="127.0.0.1").start()
    observer = server.observer

    def value(name: str, **labels: str) -> float:
        return sample(observer.render().decode(), name, **labels)

    try:
        async with app.running(), Client(broker_url, exchange=exchange) as client:
            assert value("vincent_connection_state", state="connected") == 1.0
            assert value("vincent_connection_state", state="reconnecting") == 0.0
            await client.cast(ns("flaky"), {})
            with pytest.raises(Rejected):
                await client.call(ns("picky"), {})
            with pytest.raises(CallTimeout):
                await client.call(ns("slow"), {}, timeout=0.3)
            with pytest.raises(NoRoute):
                await client.call(ns("nobody"), {})
            # A deadline already in the past: the worker drops it before handling.
            await client.cast(ns("fine"), {}, deadline=int(time.time() * 1000) - 60_000)
            await eventually(
                lambda: value("vincent_messages_total", key=ns("flaky"), outcome="dead") == 1
            )
            await eventually(
                lambda: value("vincent_messages_total", key=ns("fine"), outcome="expired") == 1
            )
            await eventually(
                lambda: value("vincent_messages_total", key=ns("slow"), outcome="handled") == 1
            )
            metrics = observer.render().decode()
    finally:
        server.stop()

    def count(name: str, **labels: str) -> float:
        return sample(metrics, name, **labels)

    flaky_key, picky_key = ns("flaky"), ns("picky")
    assert count("vincent_messages_total", key=flaky_key, outcome="failed") == 2
    assert count("vincent_messages_total", key=flaky_key, outcome="retried") == 1
    assert count("vincent_messages_total", key=picky_key, outcome="rejected") == 1
    assert count("vincent_calls_total", key=picky_key, outcome="rejected") == 1
    assert count("vincent_calls_total", key=ns("slow"), outcome="timeout") == 1
    assert count("vincent_calls_total", key=ns("nobody"), outcome="no-route") == 1
    assert count("vincent_handler_seconds_count", key=ns("slow")) == 1
    assert count("vincent_handler_seconds_sum", key=ns("slow")) >= 0.9
    assert count("vincent_in_flight", key=ns("slow")) == 0


async def test_connection_state_follows_an_outage(fresh_rabbit_node, exchange: str, ns) -> None:
    url = fresh_rabbit_node.url
    app = Vincent(url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("ok"))
    async def ok(msg: Message) -> str:
        return "ok"

    server = MetricsServer(0, health=app_health(app), host="127.0.0.1").start()

    def state(name: str) -> float:
        return sample(server.observer.render().decode(), "vincent_connection_state", state=name)

    try:
        async with app.running():
            assert state("connected") == 1
            await asyncio.to_thread(fresh_rabbit_node.stop_app)
            await eventually(lambda: state("reconnecting") == 1, timeout=30)
            assert state("connected") == 0
            status, text = await asyncio.to_thread(fetch, server.port, "/healthz")
            assert (status, text.strip()) == (503, "connection reconnecting")
            await asyncio.to_thread(fresh_rabbit_node.start_app)
            await eventually(lambda: state("connected") == 1, timeout=60)
            status, _ = await asyncio.to_thread(fetch, server.port, "/healthz")
            assert status == 200
            async with Client(url, exchange=exchange) as client:
                assert await client.call(ns("ok"), {}) == "ok"
    finally:
        server.stop()
