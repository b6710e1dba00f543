"""The one way tests wait: poll a condition until a deadline, never a bare sleep.

``what`` (optional) describes the state when the deadline passes, for the failure
message (``what=lambda: f"attempts so far: {attempts}"``); ``interval`` is the pause
between polls (longer for conditions that cost a broker round trip or a subprocess).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["eventually", "eventually_async", "wait_until"]

Describe = Callable[[], object]


def _failure(timeout: float, condition: object, what: Describe | None) -> str:
    return f"condition not met within {timeout}s: {what() if what is not None else condition}"


async def eventually(
    condition: Callable[[], object],
    timeout: float = 15.0,
    *,
    what: Describe | None = None,
    interval: float = 0.02,
) -> None:
    """Wait (on the loop) until ``condition()`` holds, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, _failure(timeout, condition, what)
        await asyncio.sleep(interval)


async def eventually_async(
    condition: Callable[[], Awaitable[object]],
    timeout: float = 15.0,
    *,
    what: Describe | None = None,
    interval: float = 0.05,
) -> None:
    """As :func:`eventually`, for a condition that must itself await (a broker query)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, _failure(timeout, condition, what)
        await asyncio.sleep(interval)


def wait_until(
    condition: Callable[[], object],
    timeout: float = 60.0,
    *,
    what: Describe | None = None,
    interval: float = 0.05,
) -> None:
    """Block until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, _failure(timeout, condition, what)
        time.sleep(interval)
