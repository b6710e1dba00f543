"""The console's taps: one private queue whose bindings follow ``tail`` and ``untail``.

A :class:`vincent_core.tap.Tap` binds its patterns once; the console adds and removes
patterns while it runs, and a message matching two patterns must show once, so it
keeps a single exclusive, auto-delete queue (named like a tap's) and changes its
bindings. It takes only copies: workers still get every message. After a reconnect the
transport declares, binds and consumes it again.

::

    watch = Watch(client, on_message=print)
    await watch.add(["file.*"])
    ...
    await watch.close()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vincent_cli.console.filtering import check_pattern
from vincent_core.client import Client
from vincent_core.tap import tap_queue_name
from vincent_core.transport.base import Delivery, QueueSpec, Subscription
from vincent_core.wire.envelope import Envelope

__all__ = ["Watch"]

_PREFETCH = 200


class Watch:
    """Taps on the client's exchange; ``on_message`` gets every envelope that matches."""

    def __init__(self, client: Client, on_message: Callable[[Envelope], None]) -> None:
        self.client = client
        self.on_message = on_message
        self.patterns: list[str] = []
        self.queue = tap_queue_name()
        self._subscription: Subscription | None = None

    async def add(self, patterns: Iterable[str]) -> list[str]:
        """Bind ``patterns`` (checked first, all or none); returns those that are new."""
        new = [check_pattern(p) for p in dict.fromkeys(patterns)]
        new = [p for p in new if p not in self.patterns]
        if not new:
            return []
        transport = self.client.transport
        if self._subscription is None:
            await transport.declare_queue(
                QueueSpec(self.queue, durable=False, exclusive=True, auto_delete=True)
            )
            self._subscription = await transport.consume(
                self.queue, self._receive, prefetch=_PREFETCH, exclusive=True
            )
        for pattern in new:
            await transport.bind(self.queue, self.client.exchange, pattern)
            self.patterns.append(pattern)
        return new

    async def remove(self, patterns: Iterable[str] | None = None) -> list[str]:
        """Unbind ``patterns`` (every one when ``None``); returns those that were bound."""
        gone = (
            list(self.patterns)
            if patterns is None
            else [p for p in dict.fromkeys(patterns) if p in self.patterns]
        )
        for pattern in gone:
            self.patterns.remove(pattern)
            await self.client.transport.unbind(self.queue, self.client.exchange, pattern)
        return gone

    async def _receive(self, delivery: Delivery) -> None:
        # A copy in a private queue: acking at once loses nothing.
        await delivery.ack()
        self.on_message(delivery.envelope)

    async def close(self) -> None:
        """Stop consuming and delete the queue (idempotent)."""
        self.patterns.clear()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.cancel()
            await self.client.transport.delete_queue(self.queue)
