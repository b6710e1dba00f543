"""The one way tests wait: poll a condition until a deadline, never a bare sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["eventually", "eventually_async", "wait_until"]


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait (on the loop) until ``condition()`` holds, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"condition not met within {timeout}s: {condition}"
        await asyncio.sleep(0.02)


async def eventually_async(condition: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """As :func:`eventually`, for a condition that must itself await (a broker query)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"condition not met within {timeout}s: {condition}"
        await asyncio.sleep(0.05)


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Block until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)
