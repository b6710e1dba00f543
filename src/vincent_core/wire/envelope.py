"""The message as it travels: routing, AMQP basic properties, headers and body bytes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from random import getrandbits
from typing import Any

from vincent_core.wire.codec import encode_body
from vincent_core.wire.deadlines import DEADLINE_HEADER, expiration_ms, now_ms

__all__ = [
    "PERSISTENT",
    "PROPERTY_NAMES",
    "Envelope",
    "build_call",
    "build_cast",
    "new_id",
]

PERSISTENT = 2

#: The AMQP basic properties, by their snake_case names (``headers`` travels apart).
PROPERTY_NAMES: tuple[str, ...] = (
    "content_type",
    "content_encoding",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
)


# The version (4) and variant (RFC 4122) bits of a uuid4, as ``uuid.UUID`` sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (4 << 76) | (0x8000 << 48)


def new_id() -> str:
    """A fresh message or correlation id: a uuid4 as 32 hex digits.

    Built from ``random.getrandbits`` rather than ``uuid.uuid4()`` (a system call and a
    ``UUID`` object, twice per call): these ids only need to be unique, not secret.
    Python reseeds ``random`` in a forked child, so worker processes do not repeat ids.
    """
    return f"{(getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"


@dataclass(slots=True)
class Envelope:
    """One AMQP message. ``timestamp`` is in epoch seconds, as AMQP carries it."""

    exchange: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = None
    content_encoding: str | None = None
    delivery_mode: int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    expiration: str | None = None
    message_id: str | None = None
    timestamp: int | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None

    def properties(self) -> dict[str, Any]:
        """The basic properties that are set, by snake_case name."""
        result: dict[str, Any] = {}
        for name in PROPERTY_NAMES:
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        return result

    def with_changes(self, **changes: Any) -> Envelope:
        """A copy with some fields replaced (headers copied, never shared)."""
        copy = replace(self, **changes)
        if "headers" not in changes:
            copy.headers = dict(self.headers)
        return copy

    @classmethod
    def from_properties(
        cls,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: dict[str, Any],
        headers: dict[str, Any] | None = None,
    ) -> Envelope:
        """Build from a snake_case property mapping; unknown names are refused."""
        known = {f.name for f in fields(cls)}
        unknown = set(properties) - known
        if unknown:
            raise ValueError(f"unknown AMQP properties: {', '.join(sorted(unknown))}")
        return cls(exchange, routing_key, body, dict(headers or {}), **properties)


def build_cast(
    exchange: str,
    key: str,
    body: Any,
    *,
    ttl: float | None = None,
    headers: dict[str, Any] | None = None,
    deadline: int | None = None,
    now: int | None = None,
) -> Envelope:
    """A persistent, JSON (or binary) message with id and timestamp.

    A ``ttl`` becomes the AMQP ``expiration`` and an ``x-vincent-deadline`` header, so a
    redelivered copy is dropped too; an inherited ``deadline`` caps both.
    """
    payload, content_type = encode_body(body)
    all_headers = dict(headers) if headers else {}
    expiration: str | None = None
    now = now_ms() if now is None else now
    if ttl is not None:
        ttl_deadline = now + int(expiration_ms(ttl))
        deadline = ttl_deadline if deadline is None else min(deadline, ttl_deadline)
    if deadline is not None:
        all_headers[DEADLINE_HEADER] = int(deadline)
        expiration = str(max(0, deadline - now))
    return Envelope(
        exchange=exchange,
        routing_key=key,
        body=payload,
        headers=all_headers,
        content_type=content_type,
        delivery_mode=PERSISTENT,
        message_id=new_id(),
        timestamp=int(time.time()),
        expiration=expiration,
    )


def build_call(
    exchange: str,
    key: str,
    body: Any,
    *,
    timeout: float,
    reply_to: str,
    correlation_id: str | None = None,
    ttl: float | None = None,
    headers: dict[str, Any] | None = None,
    deadline: int | None = None,
) -> Envelope:
    """A request: a cast plus ``reply_to``, ``correlation_id``, an ``expiration`` from the
    timeout (or a shorter ``ttl``) and the absolute ``x-vincent-deadline``.

    ``deadline`` is the one inherited from the message being handled: a nested call never
    gets more time than its caller has left.
    """
    now = now_ms()
    own = now + int(expiration_ms(timeout))
    if ttl is not None:
        own = min(own, now + int(expiration_ms(ttl)))
    if deadline is not None:
        own = min(own, int(deadline))
    envelope = build_cast(exchange, key, body, headers=headers, deadline=own, now=now)
    envelope.reply_to = reply_to
    envelope.correlation_id = correlation_id or new_id()
    return envelope
