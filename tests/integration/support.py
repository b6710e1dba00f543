"""Polling helpers shared by the integration tests (deadlines, never bare sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from vincent_core import Client


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``condition()`` holds, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Block until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)


async def queue_state(url: str, exchange: str, queue: str) -> tuple[int, int]:
    """``(ready messages, consumers)`` of an existing queue, on a connection of its own."""
    async with Client(url, exchange=exchange) as client:
        info = await client.queue_info(queue)
        assert info is not None
        return info.messages, info.consumers
