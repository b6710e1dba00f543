"""What the in-process broker tells its watchers: every publish, and every change that
can end a piece of work (a settle, an expiry, a consumer going).

Testing tools watch the broker to record what was cast and to wait for an app to be idle
without polling. Watchers run under the broker's lock, on whichever thread made the
change: they must only take note and hand over (``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vincent_core.wire.envelope import Envelope

__all__ = ["Activity", "ActivityKind", "Watcher", "Watchers"]

log = logging.getLogger("vincent.transport")

ActivityKind = Literal["publish", "ack", "reject", "expire", "consume", "cancel", "close", "purge"]


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing the broker did. For ``publish``: where to, a copy of the message as
    published (after direct reply-to was resolved), whether any queue or reply
    address took it, and the queues it went to (what RabbitMQ's firehose calls
    ``routed_queues``)."""

    kind: ActivityKind
    exchange: str = ""
    envelope: Envelope | None = None
    routed: bool = False
    queues: tuple[str, ...] = ()


Watcher = Callable[[Activity], None]


class Watchers:
    """The watchers of one broker."""

    def __init__(self) -> None:
        self._watchers: list[Watcher] = []
        self._lock = threading.Lock()

    def add(self, watcher: Watcher) -> Callable[[], None]:
        """Start calling ``watcher``; returns the function that stops it."""
        with self._lock:
            self._watchers.append(watcher)

        def remove() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return remove

    def notify(self, activity: Activity) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher(activity)
            except Exception:
                # A broken watcher must not break the broker's bookkeeping.
                log.exception("memory broker watcher %r raised", watcher)
