"""Polling helpers shared by the integration tests (deadlines, never bare sleeps)."""

from __future__ import annotations

from tests.poll import eventually, wait_until
from vincent_core import Client

__all__ = ["eventually", "queue_state", "wait_until"]


async def queue_state(url: str, exchange: str, queue: str) -> tuple[int, int]:
    """``(ready messages, consumers)`` of an existing queue, on a connection of its own."""
    async with Client(url, exchange=exchange) as client:
        info = await client.queue_info(queue)
        assert info is not None
        return info.messages, info.consumers
