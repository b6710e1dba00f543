"""RabbitMQ's firehose, read: what a ``publish.`` copy on ``amq.rabbitmq.trace`` says.

With tracing on for a vhost (``rabbitmqctl trace_on``, or the management API's
``tracing`` flag), the broker republishes every message published on it to the topic
exchange ``amq.rabbitmq.trace`` with routing key ``publish.<exchange>`` (``publish.``
for the default exchange), and every delivery with ``deliver.<queue>``. The copy keeps
the body; its headers say where the original went::

    exchange_name   the exchange it was published to
    routing_keys    its routing key (then CC/BCC)
    properties      its basic properties as a field table (``headers`` inside)
    routed_queues   the queues it was routed to (RabbitMQ 3.8+; [] for direct reply-to)

A reply to a direct reply-to call appears as ``publish.`` with routing key
``amq.rabbitmq.reply-to.<address>``: the request's ``reply_to`` as the broker rewrote it,
so requests and replies pair by address and correlation id.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vincent_core.wire.envelope import PROPERTY_NAMES, Envelope

__all__ = ["TRACE_EXCHANGE", "Published", "firehose_bindings", "from_firehose"]

TRACE_EXCHANGE = "amq.rabbitmq.trace"
_PUBLISH = "publish."


@dataclass(frozen=True, slots=True)
class Published:
    """One message as its publisher sent it, and when a tracer saw it.

    ``queues`` are those it was routed to, ``None`` when the source cannot tell. ``at``
    is a monotonic time (latencies are measured on it), ``wall`` the same moment in
    epoch seconds (for timestamps).
    """

    envelope: Envelope
    queues: tuple[str, ...] | None = None
    at: float = 0.0
    wall: float = 0.0

    @property
    def size(self) -> int:
        """The body's size in bytes."""
        return len(self.envelope.body)


def firehose_bindings(exchange: str) -> list[str]:
    """Binding keys on :data:`TRACE_EXCHANGE` for the publishes of ``exchange`` and the
    replies (published to the default exchange), and nothing else."""
    keys = [_PUBLISH + exchange]
    if exchange:
        keys.append(_PUBLISH)
    return keys


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _shared(value: Any) -> str:
    """:func:`_text`, one object per distinct value.

    A tracer keeps every waiting call's request (``vincent trace``: up to 10,000), and
    each decoded copy repeats the same exchange, keys, queue names, content type, reply
    address and expiration: interned, they cost one pointer each instead of a string.
    Interned strings are freed once nothing holds them, so unique values cannot pile up.
    """
    return sys.intern(_text(value))


#: properties unique to each message: not worth interning
_UNIQUE = frozenset(("message_id", "correlation_id"))


def _property(name: str, value: Any) -> Any:
    if name == "timestamp" and isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(moment.timestamp())
    if name in ("delivery_mode", "priority", "timestamp"):
        return int(value)
    return _text(value) if name in _UNIQUE else _shared(value)


def from_firehose(trace: Envelope, *, at: float = 0.0, wall: float = 0.0) -> Published | None:
    """The published message a firehose copy describes; ``None`` for ``deliver.`` copies
    and anything that is not a firehose copy."""
    if not trace.routing_key.startswith(_PUBLISH):
        return None
    headers = trace.headers
    exchange = _shared(headers.get("exchange_name", trace.routing_key[len(_PUBLISH) :]))
    keys = headers.get("routing_keys")
    routing_key = _shared(keys[0]) if isinstance(keys, list | tuple) and keys else ""
    table = headers.get("properties")
    properties: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    if isinstance(table, Mapping):
        for name, value in table.items():
            if name == "headers" and isinstance(value, Mapping):
                inner = dict(value)
            elif name in PROPERTY_NAMES and value is not None:
                try:
                    properties[name] = _property(name, value)
                except (TypeError, ValueError):
                    continue  # a foreign client's odd value: leave that property out
    routed = headers.get("routed_queues")
    queues = tuple(_shared(q) for q in routed) if isinstance(routed, list | tuple) else None
    envelope = Envelope.from_properties(exchange, routing_key, trace.body, properties, inner)
    return Published(envelope, queues, at, wall)
