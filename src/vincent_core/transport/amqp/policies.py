"""The transport's decisions, as pure code: when to retry, when to give up a channel.

Nothing here touches a socket or a loop; ``tests/unit/test_amqp_policies.py`` checks
each rule without a broker.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BACKOFF", "NackCounter", "backoff", "remaining"]

#: seconds between reconnect (or re-consume) attempts: quick at first, then every 5 s
BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


def backoff(attempt: int) -> float:
    """The delay before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
    return BACKOFF[min(max(attempt, 0), len(BACKOFF) - 1)]


def remaining(deadline: float | None, now: float) -> float | None:
    """Seconds left until ``deadline`` (never negative), or ``None`` for no deadline."""
    if deadline is None:
        return None
    return max(0.0, deadline - now)


@dataclass
class NackCounter:
    """Decides when a publish channel that keeps nacking is replaced.

    RabbitMQ 3.10 leaves a channel whose first quorum-queue publish fell in a leader
    election nacking every later one (docs/operations.md); a new channel is not
    affected. A full queue with ``x-overflow=reject-publish`` nacks too, but an ack (to
    any queue) resets the count, so a channel that still works is kept.
    """

    #: nacks in a row, no ack between, after which the channel is replaced
    limit: int = 3
    count: int = 0

    def acked(self) -> None:
        """A publish was confirmed."""
        self.count = 0

    def nacked(self) -> bool:
        """A publish was nacked; True when the channel should be replaced now."""
        self.count += 1
        return self.count >= self.limit

    def reset(self) -> None:
        """A new channel: start counting again."""
        self.count = 0
