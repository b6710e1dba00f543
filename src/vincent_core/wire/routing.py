"""Queue naming per ``route_to`` and topic-pattern matching."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from typing import Literal

from vincent_core.errors import ConfigurationError

__all__ = [
    "RouteTo",
    "check_key",
    "check_pattern",
    "queue_name",
    "retry_queue_name",
    "topic_matches",
]

RouteTo = Literal["one", "all", "host"]
ROUTE_TO: tuple[RouteTo, ...] = ("one", "all", "host")
_MAX_NAME = 255


def check_key(key: str, *, pattern: bool = False) -> str:
    """Validate a routing key (``pattern=True`` allows ``*`` and ``#`` words)."""
    if not key or len(key.encode()) > _MAX_NAME:
        raise ConfigurationError(f"a routing key must be 1-255 bytes, not {key!r}")
    if not pattern and ("*" in key.split(".") or "#" in key.split(".")):
        raise ConfigurationError(f"{key!r} is a pattern: cast and call need a plain key")
    return key


def check_pattern(pattern: str) -> str:
    """Validate a topic pattern as a person means it: ``*`` and ``#`` only as whole
    words. AMQP takes ``thumb.mak*`` as a plain key that matches nothing but itself;
    whoever types it means a wildcard, so it is refused with the patterns that work.
    Used by every command that takes a pattern and by the console's ``filter``."""
    check_key(pattern, pattern=True)
    for word in pattern.split("."):
        if word not in ("*", "#") and ("*" in word or "#" in word):
            head = pattern.rsplit(".", 1)[0] if "." in pattern else ""
            hint = f"{head}.* or {head}.#" if head else "* or #"
            raise ConfigurationError(
                f"{pattern!r}: * and # stand for whole words between dots (try {hint})"
            )
    return pattern


def queue_name(
    key: str,
    route_to: RouteTo = "one",
    queue: str | None = None,
    *,
    hostname: str | None = None,
) -> str:
    """The queue a listener consumes from.

    ``one``: ``queue`` or the key itself (so a plain client can publish to the default
    exchange with the key); ``host``: ``<queue or key>.<hostname>``; ``all``: a unique,
    per-process name ``<queue or key>.all.<hostname>.<pid>.<random>``.
    """
    if route_to not in ROUTE_TO:
        raise ConfigurationError(f"route_to must be one of {ROUTE_TO}, not {route_to!r}")
    base = queue or key
    host = hostname or socket.gethostname()
    if route_to == "host":
        name = f"{base}.{host}"
    elif route_to == "all":
        import uuid  # here: importing uuid costs `vincent cast` 5 ms (it loads platform)

        name = f"{base}.all.{host}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    else:
        name = base
    if name.startswith("amq."):
        raise ConfigurationError(f"queue names starting with 'amq.' are reserved: {name!r}")
    if len(name.encode()) > _MAX_NAME:
        raise ConfigurationError(f"queue name longer than 255 bytes: {name!r}")
    return name


def retry_queue_name(queue: str) -> str:
    """The companion queue where a failed cast waits out its retry delay.

    ``<queue>.retry``; when that would pass AMQP's 255 bytes, the queue name's head,
    a digest of the whole name (so two long names never share one), and ``.retry``.
    """
    name = f"{queue}.retry"
    if len(name.encode()) <= _MAX_NAME:
        return name
    import hashlib

    digest = hashlib.sha256(queue.encode()).hexdigest()[:16]
    tail = f".{digest}.retry"
    head = queue.encode()[: _MAX_NAME - len(tail)].decode("utf-8", "ignore")
    return head + tail


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""
    if "*" not in pattern and "#" not in pattern:
        return pattern == key
    return _topic_words(tuple(pattern.split(".")), tuple(key.split(".")))


@lru_cache(maxsize=8192)
def _topic_words(pattern: tuple[str, ...], key: tuple[str, ...]) -> bool:
    if not pattern:
        return not key
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_topic_words(rest, key[i:]) for i in range(len(key) + 1))
    if not key:
        return False
    if head == "*" or head == key[0]:
        return _topic_words(rest, key[1:])
    return False
