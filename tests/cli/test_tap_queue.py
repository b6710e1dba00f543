"""`listen/record --queue`: a message is acked only once written (CONTRACT 6.2)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Callable

from tests.cli.helpers import VINCENT, Cli
from vincent_core import Client
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.envelope import Envelope


async def _fill(url: str, queue: str, count: int) -> None:
    async with Client(url) as client:
        await client.transport.declare_queue(QueueSpec(queue))
        for n in range(count):
            await client.publish(Envelope("", queue, b'{"n":%d}' % n), mandatory=True)


async def _state(url: str, queue: str) -> tuple[int, int]:
    async with Client(url) as client:
        info = await client.queue_info(queue)
        assert info is not None
        return info.messages, info.consumers


def test_record_to_a_full_disk_leaves_the_message_in_its_queue(
    cli: Cli, broker_url: str, ns: Callable[..., str]
) -> None:
    queue = ns("full")
    asyncio.run(_fill(broker_url, queue, 3))
    result = cli.run("record", "--queue", queue, "-o", "/dev/full", "--timeout", "20")
    assert result.code == 1, result.stderr
    error = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error) == 1, result.stderr
    assert "No space left on device" in error[0] and queue in error[0]
    assert "Traceback" not in result.stderr and "bug" not in result.stderr
    assert asyncio.run(_state(broker_url, queue)) == (3, 0)


def test_listen_queue_into_head_takes_exactly_one(
    cli: Cli, broker_url: str, ns: Callable[..., str]
) -> None:
    queue = ns("head")
    asyncio.run(_fill(broker_url, queue, 5))
    script = (
        f'"{VINCENT}" listen --queue {queue} --timeout 30 | head -n 1; '
        'echo "${PIPESTATUS[0]}" >&2'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, env=cli.env, timeout=60, check=False
    )
    stderr = done.stderr.decode()
    assert done.stdout.count(b"\n") == 1, done.stdout
    assert b'"n":0' in done.stdout
    assert stderr.strip().splitlines()[-1] == "1", stderr
    assert "Traceback" not in stderr
    assert asyncio.run(_state(broker_url, queue)) == (4, 0)


def test_dead_list_holds_a_bounded_batch_and_keeps_the_order(
    cli: Cli, broker_url: str, rabbit_node, ns: Callable[..., str]
) -> None:
    """Observation 8: without --count, `dead list` held every dead letter unacked."""
    queue, total = ns("dead"), 1500
    asyncio.run(_fill(broker_url, queue, total))
    peaks: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            out = rabbit_node.rabbitmqctl("list_queues", "-q", "name", "messages_unacknowledged")
            for line in out.splitlines():
                name, _, unacked = line.partition("\t")
                if name.strip() == queue:
                    peaks.append(int(unacked))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = cli.run("dead", "list", "--queue", queue, timeout=120)
    finally:
        stop.set()
        watcher.join(30)
    assert result.code == 0, result.stderr
    assert [line["body"]["n"] for line in result.lines] == list(range(total))
    assert max(peaks, default=0) <= 100, max(peaks)
    assert asyncio.run(_state(broker_url, queue)) == (total, 0)
    again = cli.run("dead", "list", "--queue", queue, timeout=120)
    assert [line["body"]["n"] for line in again.lines] == list(range(total))  # same order
