"""A dead-letter queue through a client: list, replay, purge (``vincent dead`` and the
console's ``dead``, which also reaches ``memory://`` inside ``vincent dev``).

Listing takes each dead letter without acking it and gives it back at the end, in
order, so listing removes nothing. Replaying removes a dead letter only once the broker
confirmed its copy.

::

    letters = DeadLetters(client)
    found = await letters.list("vincent.dead", limit=50)    # [(original, dead), ...]
    replayed, unrouted = await letters.replay("vincent.dead", pattern="file.#")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vincent_core.errors import NoRoute
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.failures import restore_dead_letter
from vincent_core.wire.routing import topic_matches

if TYPE_CHECKING:  # the CLI loads vincent_core's client only when a command runs
    from vincent_core.client import Client
    from vincent_core.transport.base import Delivery

__all__ = ["DeadLetter", "DeadLetters", "Replayed"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead letter as it sits in the queue, and the original message it holds."""

    dead: Envelope
    original: Envelope


@dataclass(frozen=True, slots=True)
class Replayed:
    """What ``dead replay`` did: how many went out, and the keys nothing was bound to."""

    replayed: int
    unrouted: list[str]


class DeadLetters:
    """Lists, replays and purges a dead-letter queue through ``client``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def list(self, queue: str, *, limit: int | None = None) -> list[DeadLetter]:
        """Up to ``limit`` dead letters, oldest first; the queue keeps every one."""
        taken: list[Delivery] = []
        try:
            while limit is None or len(taken) < limit:
                delivery = await self.client.take(queue)
                if delivery is None:
                    break
                taken.append(delivery)
        finally:
            await _give_back(taken)
        return [DeadLetter(d.envelope, restore_dead_letter(d.envelope)) for d in taken]

    async def replay(
        self, queue: str, *, pattern: str | None = None, limit: int | None = None
    ) -> Replayed:
        """Send dead letters (those whose original key matches ``pattern``) to their
        original exchange and key; each leaves the queue once the broker confirmed it.
        One that nothing is bound to stays."""
        held: list[Delivery] = []
        replayed = 0
        unrouted: list[str] = []
        try:
            while limit is None or replayed < limit:
                delivery = await self.client.take(queue)
                if delivery is None:
                    break
                original = restore_dead_letter(delivery.envelope)
                if pattern is not None and not topic_matches(pattern, original.routing_key):
                    held.append(delivery)  # held unacked, so the next take moves on
                    continue
                try:
                    await self.client.publish(original, mandatory=True)
                except NoRoute:
                    unrouted.append(original.routing_key)
                    held.append(delivery)
                    continue
                await delivery.ack()
                replayed += 1
        finally:
            await _give_back(held)
        return Replayed(replayed, unrouted)

    async def purge(self, queue: str) -> int:
        """Drop every dead letter of ``queue``; returns how many."""
        return await self.client.purge(queue)


async def _give_back(deliveries: list[Delivery]) -> None:
    # Rejected with requeue, in the order taken: they go back where they were.
    for delivery in deliveries:
        await delivery.reject(requeue=True)
