"""Coalesced writes to one connection, and confirm waits bounded without timers.

Every frame vincent sends on a connection (publishes, acks and rejects, requests, of
every channel) goes through the connection's :class:`Outbox`: the first write of a loop
iteration schedules one send at its end, and that send joins everything written until
then. A burst of casts or acks costs one ``transport.write`` (one ``send()``), and a
lone message waits for no more than the rest of its iteration.

Frames stay in the order they were written. A channel the broker closed (or whose
connection went) sends nothing more: its frames would be discarded, or after the
``close-ok`` be a connection error. A channel we closed takes nothing written after
its ``channel.close``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from vincent_core.transport.acks import Settlements

if TYPE_CHECKING:
    from vincent_core.transport.amqp.channel import Channel
    from vincent_core.transport.amqp.connection import Connection

__all__ = ["ConfirmDeadlines", "Outbox"]

_SWEEP_INTERVAL = 0.25


class Outbox:
    """The frames written during one loop iteration, sent as one write at its end."""

    __slots__ = ("_connection", "_parts", "_scheduled")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._parts: list[tuple[Channel | None, bytes | Settlements]] = []
        self._scheduled = False

    def write(self, channel: Channel | None, data: bytes | Settlements) -> None:
        """Send ``data`` (whole frames of ``channel``, or a consumer channel's
        settlements, rendered when sent) with the rest of this iteration's frames.
        ``channel`` None: connection-level frames (and ``channel.close``)."""
        if channel is not None and not channel.is_open:
            return
        self._parts.append((channel, data))
        if not self._scheduled:
            self._scheduled = True
            self._connection.loop.call_soon(self.send)

    def send(self) -> None:
        """Send everything written so far, now."""
        self._scheduled = False
        parts, self._parts = self._parts, []
        if not parts:
            return
        payload: list[bytes] = []
        for channel, data in parts:
            if channel is not None and channel.closing.done():
                continue
            payload.append(data if isinstance(data, bytes) else data.frames())
        if payload:
            self._connection.send_now(b"".join(payload))

    def abandon(self) -> None:
        """The connection is gone: drop what is unsent (the broker requeues the
        unacked messages; unconfirmed publishes fail with the connection)."""
        self._parts.clear()


class ConfirmDeadlines:
    """Fails confirm waits that outlive their timeout, from one periodic sweep.

    A timer per publish (``asyncio.timeout``) costs a scheduled and cancelled handle
    per message, a fifth of a cast's throughput; a timeout is a rare failure, so a
    sweep every quarter second bounds it closely enough.
    """

    __slots__ = ("_task", "_waits")

    def __init__(self) -> None:
        self._waits: dict[asyncio.Future[Any], float] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, future: asyncio.Future[Any], timeout: float) -> None:
        """Fail ``future`` with ``TimeoutError`` if it is not done in ``timeout`` s."""
        loop = future.get_loop()
        self._waits[future] = loop.time() + timeout
        if self._task is None:
            self._task = loop.create_task(self._sweep(loop))

    def discard(self, future: asyncio.Future[Any]) -> None:
        """``future`` is done (or no longer waited for)."""
        self._waits.pop(future, None)

    async def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._waits:
                await asyncio.sleep(_SWEEP_INTERVAL)
                now = loop.time()
                late = [f for f, deadline in self._waits.items() if deadline <= now]
                for future in late:
                    del self._waits[future]
                    if not future.done():
                        future.set_exception(TimeoutError())
        finally:
            self._task = None

    def close(self) -> None:
        """Stop sweeping (the transport is closing)."""
        self._waits.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None
