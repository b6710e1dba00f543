"""Queue declarations checked the way RabbitMQ checks them (sans-io).

:func:`parse_queue` validates a :class:`QueueSpec` and reads the ``x-`` arguments the
in-process broker honours; :func:`inequivalence` says why a redeclaration does not match
the queue that exists (RabbitMQ's 406 PRECONDITION_FAILED).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vincent_core.errors import ConfigurationError
from vincent_core.transport.base import QueueSpec

__all__ = ["QueueArguments", "inequivalence", "parse_expiration", "parse_queue"]

QUEUE_TYPES = ("classic", "quorum")
OVERFLOWS = ("drop-head", "reject-publish")


@dataclass(frozen=True, slots=True)
class QueueArguments:
    """The ``x-`` arguments that change how a queue behaves, decoded."""

    #: ``x-message-ttl`` in seconds
    message_ttl: float | None = None
    dead_letter_exchange: str | None = None
    dead_letter_routing_key: str | None = None
    max_length: int | None = None
    queue_type: str = "classic"
    #: ``x-delivery-limit`` (quorum queues only; ignored by classic ones, as RabbitMQ does)
    delivery_limit: int | None = None
    #: ``x-overflow``: what a full queue does with a new message (``drop-head`` drops
    #: its oldest, ``reject-publish`` refuses the new one: the publisher gets a nack)
    overflow: str = "drop-head"


def _invalid(name: str, queue: str, value: Any, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"declare queue {queue!r}: PRECONDITION_FAILED - invalid arg {name!r} "
        f"for queue {queue!r}: {value!r} ({why})"
    )


def _non_negative(arguments: dict[str, Any], name: str, queue: str) -> int | None:
    value = arguments.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(name, queue, value, "must be a non-negative integer")
    return value


def _text(arguments: dict[str, Any], name: str, queue: str) -> str | None:
    value = arguments.get(name)
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode()
    if not isinstance(value, str):
        raise _invalid(name, queue, value, "must be a string")
    return value


def parse_queue(spec: QueueSpec) -> QueueArguments:
    """Validate ``spec`` and decode its arguments; unknown ``x-`` arguments are kept
    (compared on redeclare) but have no effect."""
    args, name = spec.arguments, spec.name
    ttl = _non_negative(args, "x-message-ttl", name)
    exchange = _text(args, "x-dead-letter-exchange", name)
    routing_key = _text(args, "x-dead-letter-routing-key", name)
    if routing_key is not None and exchange is None:
        raise _invalid(
            "x-dead-letter-routing-key", name, routing_key, "needs x-dead-letter-exchange"
        )
    queue_type = _text(args, "x-queue-type", name) or "classic"
    if queue_type not in QUEUE_TYPES:
        raise _invalid(
            "x-queue-type",
            name,
            queue_type,
            f"the memory broker models {' and '.join(QUEUE_TYPES)}",
        )
    if queue_type == "quorum" and (spec.exclusive or spec.auto_delete or not spec.durable):
        raise ConfigurationError(
            f"declare queue {name!r}: PRECONDITION_FAILED - a quorum queue must be durable, "
            "neither exclusive nor auto-delete"
        )
    limit = _non_negative(args, "x-delivery-limit", name)
    overflow = _text(args, "x-overflow", name) or "drop-head"
    if overflow not in OVERFLOWS:
        raise _invalid(
            "x-overflow", name, overflow, f"the memory broker models {' and '.join(OVERFLOWS)}"
        )
    return QueueArguments(
        message_ttl=ttl / 1000 if ttl is not None else None,
        dead_letter_exchange=exchange,
        dead_letter_routing_key=routing_key,
        max_length=_non_negative(args, "x-max-length", name),
        queue_type=queue_type,
        delivery_limit=limit if queue_type == "quorum" else None,
        overflow=overflow,
    )


def inequivalence(existing: QueueSpec, wanted: QueueSpec) -> str | None:
    """Why ``wanted`` does not redeclare ``existing``, or ``None`` when it does."""
    for flag in ("durable", "exclusive", "auto_delete"):
        have, want = getattr(existing, flag), getattr(wanted, flag)
        if have != want:
            return (
                f"inequivalent arg {flag!r} for queue {existing.name!r}: "
                f"received {want} but current is {have}"
            )
    for key in sorted(set(existing.arguments) | set(wanted.arguments)):
        have, want = existing.arguments.get(key), wanted.arguments.get(key)
        if have != want or type(have) is not type(want):
            current = "none" if have is None else repr(have)
            received = "none" if want is None else repr(want)
            return (
                f"inequivalent arg {key!r} for queue {existing.name!r}: "
                f"received {received} but current is {current}"
            )
    return None


def parse_expiration(value: str | None) -> float | None:
    """A message's ``expiration`` property (milliseconds, as text) in seconds.

    RabbitMQ refuses anything but a non-negative integer; so does this.
    """
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        raise ValueError(f"invalid expiration {value!r}: must be a non-negative integer")
    return int(text) / 1000
