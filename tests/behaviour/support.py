"""The broker a behaviour test runs against, and how time passes on it.

Every test in this folder runs twice: on the private RabbitMQ node and on ``memory://``.
On RabbitMQ, time is real. On ``memory://`` the broker measures TTLs and retry delays on
a :class:`VirtualClock` that moves only when a test says so: ``eventually(...,
advance=0.1)`` moves it by 0.1 s on every poll, so "wait until the retry came back"
reads the same on both brokers and never sleeps through a delay on memory://.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from tests.poll import eventually_async
from vincent_core import Client
from vincent_core.transport.memory import VirtualClock
from vincent_core.wire.envelope import Envelope

BrokerKind = Literal["rabbitmq", "memory"]
Condition = Callable[[], bool | Awaitable[bool]]

#: generous: two cores shared by several test runs
DEFAULT_TIMEOUT = 20.0


@dataclass
class Broker:
    """The broker under test: its URL and, for memory://, its virtual clock."""

    kind: BrokerKind
    url: str
    clock: VirtualClock | None = None

    @property
    def is_memory(self) -> bool:
        return self.kind == "memory"

    def advance(self, seconds: float) -> None:
        """Move broker time on memory:// (real time needs no help on RabbitMQ)."""
        if self.clock is not None:
            self.clock.advance(seconds)

    async def eventually(
        self, condition: Condition, *, advance: float = 0.0, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Poll ``condition`` (sync or async) until it holds, failing after ``timeout``
        real seconds. ``advance``: broker seconds that pass per poll on memory://."""

        async def holds() -> bool:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if not result:
                self.advance(advance)
            return bool(result)

        await eventually_async(holds, timeout, what=lambda: condition, interval=0.01)


async def depth(client: Client, queue: str) -> int:
    """Ready messages in ``queue`` (-1 when it does not exist)."""
    info = await client.queue_info(queue)
    return info.messages if info is not None else -1


async def consumers(client: Client, queue: str) -> int:
    """Consumers of ``queue`` (-1 when it does not exist)."""
    info = await client.queue_info(queue)
    return info.consumers if info is not None else -1


async def take_all(
    broker: Broker, client: Client, queue: str, expected: int, *, advance: float = 0.0
) -> list[Envelope]:
    """Take (and ack) exactly ``expected`` messages from ``queue``, polling with a
    deadline, then check that nothing more is there."""
    taken: list[Envelope] = []

    async def got_them() -> bool:
        delivery = await client.take(queue)
        if delivery is not None:
            await delivery.ack()
            taken.append(delivery.envelope)
        return len(taken) >= expected

    await broker.eventually(got_them, advance=advance)
    assert await client.take(queue) is None, f"more than {expected} message(s) in {queue!r}"
    return taken
