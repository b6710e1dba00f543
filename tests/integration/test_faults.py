"""Fault injection with real worker processes: every message is counted."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.apps.sink_process import SinkWorker, handled
from tests.integration.support import queue_state, wait_until
from vincent_core import Client

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


async def cast_all(url: str, exchange: str, key: str, count: int) -> None:
    async with Client(url, exchange=exchange) as client:
        for start in range(0, count, 200):
            await asyncio.gather(
                *(client.cast(key, {"n": n}) for n in range(start, min(count, start + 200)))
            )


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_worker_dies_mid_stream_and_nothing_is_lost(
    broker_url: str, exchange: str, ns, tmp_path: Path, signum: int
) -> None:
    sink, key, total = tmp_path / "sink.log", ns("jobs"), 2000
    workers = [
        SinkWorker(broker_url, exchange, key, sink, SINK_DELAY="0.002", SINK_GRACE="20")
        for _ in range(2)
    ]
    try:
        asyncio.run(cast_all(broker_url, exchange, key, total))
        wait_until(lambda: sum(handled(sink).values()) >= total // 4)
        victim = workers[0]
        started = time.monotonic()
        victim.signal(signum)
        code = victim.wait(30)
        if signum == signal.SIGTERM:
            assert code == 0
            assert time.monotonic() - started < 20
        victim.stop()
        workers[0] = SinkWorker(broker_url, exchange, key, sink, SINK_DELAY="0.002")
        wait_until(lambda: set(handled(sink)) == set(range(total)))
        counts = handled(sink)
        duplicates = sum(c - 1 for c in counts.values())
        assert set(counts) == set(range(total)), "lost messages"
        if signum == signal.SIGTERM:
            assert duplicates == 0, f"{duplicates} duplicates after a graceful stop"
        else:
            # At-least-once: only what the killed worker had in flight may repeat.
            assert duplicates <= 8
    finally:
        for worker in workers:
            worker.stop()


def test_sigterm_returns_unfinished_messages_after_the_grace_period(
    broker_url: str, exchange: str, ns, tmp_path: Path
) -> None:
    sink, key = tmp_path / "sink.log", ns("slow")
    worker = SinkWorker(
        broker_url, exchange, key, sink, SINK_DELAY="30", SINK_GRACE="0.5", SINK_CONCURRENCY="3"
    )
    try:
        asyncio.run(cast_all(broker_url, exchange, key, 3))

        def depth() -> tuple[int, int]:
            return asyncio.run(queue_state(broker_url, exchange, key))

        wait_until(lambda: depth() == (0, 1))
        worker.signal(signal.SIGTERM)
        assert worker.wait(15) == 0
        assert depth() == (3, 0)
        assert not sink.exists()
    finally:
        worker.stop()


def test_second_signal_stops_at_once_and_loses_nothing(
    broker_url: str, exchange: str, ns, tmp_path: Path
) -> None:
    sink, key = tmp_path / "sink.log", ns("slower")
    worker = SinkWorker(
        broker_url, exchange, key, sink, SINK_DELAY="30", SINK_GRACE="60", SINK_CONCURRENCY="2"
    )
    try:
        asyncio.run(cast_all(broker_url, exchange, key, 2))

        def depth() -> tuple[int, int]:
            return asyncio.run(queue_state(broker_url, exchange, key))

        wait_until(lambda: depth() == (0, 1))
        worker.signal(signal.SIGTERM)
        wait_until(lambda: depth()[1] == 0)
        started = time.monotonic()
        worker.signal(signal.SIGINT)
        assert worker.wait(15) == 0
        assert time.monotonic() - started < 10
        assert depth() == (2, 0)
    finally:
        worker.stop()


def test_a_stuck_plain_def_handler_does_not_hold_the_stopping_worker(
    broker_url: str, exchange: str, ns, tmp_path: Path
) -> None:
    sink, key = tmp_path / "sink.log", ns("stuck")
    worker = SinkWorker(
        broker_url,
        exchange,
        key,
        sink,
        SINK_DELAY="30",
        SINK_GRACE="0.5",
        SINK_SYNC="1",
        SINK_CONCURRENCY="1",
    )
    try:
        asyncio.run(cast_all(broker_url, exchange, key, 1))

        def depth() -> tuple[int, int]:
            return asyncio.run(queue_state(broker_url, exchange, key))

        wait_until(lambda: depth() == (0, 1))
        started = time.monotonic()
        worker.signal(signal.SIGTERM)
        assert worker.wait(15) == 0
        assert time.monotonic() - started < 10
        assert depth() == (1, 0)
    finally:
        worker.stop()
