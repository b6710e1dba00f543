"""Time on the wire: expirations in milliseconds, deadlines in epoch milliseconds."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from vincent_core.errors import ConfigurationError

__all__ = [
    "DEADLINE_HEADER",
    "deadline_from_headers",
    "expiration_ms",
    "is_expired",
    "now_ms",
    "remaining_seconds",
]

DEADLINE_HEADER = "x-vincent-deadline"


def now_ms() -> int:
    """Wall-clock epoch milliseconds (deadlines cross processes, so not monotonic)."""
    return time.time_ns() // 1_000_000


def expiration_ms(seconds: float) -> str:
    """An AMQP ``expiration`` for ``seconds``: whole milliseconds, rounded up, never
    negative (``5`` → ``"5000"``)."""
    if seconds < 0 or math.isnan(seconds):
        raise ConfigurationError(
            f"a TTL or timeout must be a positive number of seconds, not {seconds}"
        )
    return str(math.ceil(round(seconds * 1000, 6)))


def deadline_from_headers(headers: Mapping[str, Any] | None) -> int | None:
    """The absolute deadline a message carries, if any (ignores malformed values)."""
    if not headers:
        return None
    value = headers.get(DEADLINE_HEADER)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def is_expired(headers: Mapping[str, Any] | None, now: int | None = None) -> bool:
    """Whether the message's own deadline passed (``now`` in epoch milliseconds)."""
    deadline = deadline_from_headers(headers)
    if deadline is None:
        return False
    return (now_ms() if now is None else now) >= deadline


def remaining_seconds(deadline: int | None, now: int | None = None) -> float | None:
    """Seconds left until ``deadline`` (never below zero), or ``None`` without one."""
    if deadline is None:
        return None
    return max(0.0, (deadline - (now_ms() if now is None else now)) / 1000)
