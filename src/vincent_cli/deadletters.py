"""A dead-letter queue through a client: list, replay, purge (``vincent dead`` and the
console's ``dead``, which also reaches ``memory://`` inside ``vincent dev``).

Listing removes nothing and holds at most :data:`LIST_BATCH` dead letters unacked:
up to one batch, they are taken and given back in order; beyond it, each letter listed
moves to the end of the queue (its copy confirmed, then the original acked), so that
after a full pass the queue is in its old order again. Replaying removes a dead letter
only once the broker confirmed its copy.

::

    letters = DeadLetters(client)
    found = await letters.list("vincent.dead", limit=50)    # [(original, dead), ...]
    replayed, unrouted = await letters.replay("vincent.dead", pattern="file.#")
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vincent_core.errors import NoRoute
from vincent_core.wire.copies import without_user_id
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.failures import restore_dead_letter
from vincent_core.wire.routing import topic_matches

if TYPE_CHECKING:  # the CLI loads vincent_core's client only when a command runs
    from vincent_core.client import Client
    from vincent_core.transport.base import Delivery

__all__ = ["LIST_BATCH", "DeadLetter", "DeadLetters", "Replayed"]

#: dead letters held unacked at once while listing
LIST_BATCH = 100


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
        return [letter async for letter in self.each(queue, limit=limit)]

    async def each(
        self, queue: str, *, limit: int | None = None
    ) -> AsyncGenerator[DeadLetter, None]:
        """The dead letters there at the start (up to ``limit``), oldest first, as they
        are read, with at most :data:`LIST_BATCH` held unacked at any time.

        Up to one batch, the letters are held and given back in place. Beyond it, each
        batch moves to the end of the queue once it was handed out (a copy confirmed,
        then the original acked: a crash in between lists a letter twice later, never
        loses it); letters arriving meanwhile end up among them. Iterate to the end, or
        close the iterator (``contextlib.aclosing``), so the last batch is settled.
        """
        info = await self.client.queue_info(queue)
        if info is None:
            return
        total = info.messages if limit is None else min(limit, info.messages)
        rotate = total > LIST_BATCH
        listed = 0
        while listed < total:
            batch = await self._take(queue, min(LIST_BATCH, total - listed))
            if not batch:
                return
            try:
                for delivery in batch:
                    yield DeadLetter(delivery.envelope, restore_dead_letter(delivery.envelope))
            finally:
                if rotate:
                    await self._to_the_end(queue, batch)
                else:
                    await _give_back(batch)
            listed += len(batch)

    async def _take(self, queue: str, count: int) -> builtins.list[Delivery]:
        taken: builtins.list[Delivery] = []
        while len(taken) < count:
            delivery = await self.client.take(queue)
            if delivery is None:
                break
            taken.append(delivery)
        return taken

    async def _to_the_end(self, queue: str, batch: builtins.list[Delivery]) -> None:
        """Each letter of ``batch`` to the end of ``queue``, copy first; what cannot be
        copied goes back in place, and the error ends the listing."""
        for index, delivery in enumerate(batch):
            envelope = delivery.envelope
            headers = dict(envelope.headers)
            without_user_id(envelope, headers)  # the broker checks user_id against ours
            copy = envelope.with_changes(
                exchange="", routing_key=queue, headers=headers, user_id=None
            )
            try:
                await self.client.publish(copy, mandatory=True)
            except BaseException:
                await _give_back(batch[index:])
                raise
            await delivery.ack()

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
