"""Coalesced writes to one aiormq connection, and confirm waits bounded without timers.

aiormq sends every frame as its own item through a 10-slot queue to its writer task,
one ``send()`` each, and its ``basic_publish`` holds the channel lock until the writer
has taken the frame: one loop round trip per message. The :class:`Outbox` puts one
batch in that queue for the frames of a whole loop iteration (publishes, acks, rejects,
of every channel of the connection), so a burst of casts or acks costs one wake-up
of the writer and one ``send()``, and a lone message waits no longer than with aiormq.

Frames stay in the order they were written. A batch may take along frames written
after aiormq queued one of its own (they then go first); that never matters for the
frames written here: publishes on the publish channel and settlements of deliveries
already received. The other way round does matter: ``basic.cancel`` and
``channel.close`` must follow the acks already written, so callers :meth:`Outbox.flush`
first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiormq.abc import ChannelFrame

from vincent_core.transport.acks import Settlements
from vincent_core.transport.amqp.seam import (
    AbstractChannel,
    AbstractConnection,
    channel_open,
    write_queue,
)

__all__ = ["ConfirmDeadlines", "Outbox"]

_SWEEP_INTERVAL = 0.25


class _Batch:
    """A place in aiormq's write queue whose bytes are decided when the writer takes it.

    The writer task runs at the earliest in the next loop iteration; everything written
    until then (the rest of this iteration's publishes and acks) joins this batch, so it
    costs no extra hop and coalesces the whole iteration. Duck-types aiormq's
    ``ChannelFrame`` as its writer uses it.
    """

    __slots__ = ("_outbox",)

    should_close = False
    should_drain = False

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    @property
    def payload(self) -> bytes:
        return self._outbox._render(self)

    def drain(self) -> None:
        return None

    def __repr__(self) -> str:
        return "<vincent outbox batch>"


class Outbox:
    """The frames written during one loop iteration, sent to aiormq's writer as one."""

    __slots__ = ("_batch", "_loop", "_parts", "_queue", "_sender")

    def __init__(self, connection: AbstractConnection) -> None:
        self._queue: asyncio.Queue[Any] = write_queue(connection)
        self._loop = asyncio.get_running_loop()
        self._parts: list[tuple[AbstractChannel, bytes | Settlements]] = []
        self._batch: _Batch | None = None
        self._sender: asyncio.Task[None] | None = None

    def write(self, channel: AbstractChannel, data: bytes | Settlements) -> None:
        """Send ``data`` (whole frames of ``channel``, or a consumer channel's
        settlements, rendered when sent) with the rest of this iteration's frames."""
        self._parts.append((channel, data))
        if self._batch is not None:
            return  # the batch in the queue takes it along
        batch = self._batch = _Batch(self)
        if self._queue.full():
            self._sender = self._loop.create_task(self._enqueue(batch))
        else:
            self._queue.put_nowait(batch)

    async def _enqueue(self, batch: _Batch) -> None:
        try:
            await self._queue.put(batch)
        finally:
            if self._sender is asyncio.current_task():
                self._sender = None

    def _render(self, batch: _Batch) -> bytes:
        if batch is not self._batch:
            return b""  # abandoned with its connection
        self._batch = None
        parts, self._parts = self._parts, []
        last: AbstractChannel | None = None
        sendable = False
        payload: list[bytes] = []
        for channel, data in parts:
            if channel is not last:
                last, sendable = channel, channel_open(channel)
            frames = data if isinstance(data, bytes) else data.frames()
            if sendable:
                payload.append(frames)
        return b"".join(payload)

    async def flush(self, *, written: bool = False) -> None:
        """Make sure everything written so far is in aiormq's queue, ahead of whatever
        is put there next; with ``written``, also wait until its writer has passed it
        to the socket (before a close, which drops what is still queued)."""
        if self._sender is not None:
            await asyncio.shield(self._sender)
        if written:
            done = self._loop.create_future()
            await self._queue.put(ChannelFrame(payload=b"", should_close=False, drain_future=done))
            await done

    def abandon(self) -> None:
        """The connection is gone: drop what is unsent (the broker requeues the
        unacked messages; unconfirmed publishes fail with the connection)."""
        self._parts.clear()
        self._batch = None
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None


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
