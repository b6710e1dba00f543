"""The in-process broker's firehose: every publish, as RabbitMQ's ``amq.rabbitmq.trace``
would show it, so ``vincent dev`` pairs calls with their replies without a broker.

::

    stop = watch_published(broker, loop, conversations_feed)
    ...
    stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from vincent_core.transport.memory.activity import Activity
from vincent_core.transport.memory.broker import MemoryBroker
from vincent_core.wire.firehose import Published

__all__ = ["watch_published"]


def watch_published(
    broker: MemoryBroker,
    loop: asyncio.AbstractEventLoop,
    on_published: Callable[[Published], None],
) -> Callable[[], None]:
    """Call ``on_published`` on ``loop`` for every message published to ``broker`` (from
    any thread), stamped with the moment it was published; returns the function that
    stops it."""

    def watcher(activity: Activity) -> None:
        # Under the broker's lock, on the publisher's thread: note the time, hand over.
        if activity.kind != "publish" or activity.envelope is None:
            return
        published = Published(activity.envelope, activity.queues, time.monotonic(), time.time())
        # A closed loop: nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(on_published, published)

    return broker.watch(watcher)
