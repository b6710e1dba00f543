"""Envelope ↔ AMQP basic properties: pure conversions, no I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pamqp import commands as spec

from vincent_core.transport.amqp.machine import Message
from vincent_core.wire.envelope import Envelope

__all__ = ["envelope_of", "to_envelope", "to_properties"]

_UTC = dt.UTC


def to_properties(envelope: Envelope) -> spec.Basic.Properties:
    """Envelope fields to pamqp properties."""
    stamp = envelope.timestamp
    return spec.Basic.Properties(
        content_type=envelope.content_type,
        content_encoding=envelope.content_encoding,
        headers=envelope.headers or None,
        delivery_mode=envelope.delivery_mode,
        priority=envelope.priority,
        correlation_id=envelope.correlation_id,
        reply_to=envelope.reply_to,
        expiration=envelope.expiration,
        message_id=envelope.message_id,
        timestamp=dt.datetime.fromtimestamp(stamp, _UTC) if stamp is not None else None,
        message_type=envelope.type,
        user_id=envelope.user_id,
        app_id=envelope.app_id,
    )


def to_envelope(
    properties: spec.Basic.Properties,
    body: bytes,
    *,
    exchange: str | None,
    routing_key: str | None,
) -> Envelope:
    """A received message's properties, body and address as an Envelope."""
    stamp = properties.timestamp
    headers: dict[str, Any] = dict(properties.headers) if properties.headers else {}
    return Envelope(
        exchange=exchange or "",
        routing_key=routing_key or "",
        body=body,
        headers=headers,
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        delivery_mode=properties.delivery_mode,
        priority=properties.priority,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        expiration=properties.expiration,
        message_id=properties.message_id,
        timestamp=int(stamp.timestamp()) if stamp is not None else None,
        type=properties.message_type,
        user_id=properties.user_id,
        app_id=properties.app_id,
    )


def envelope_of(message: Message) -> Envelope:
    """A received message (delivered, got or returned) as an Envelope."""
    header = message.header
    if header is None:
        return Envelope(message.exchange, message.routing_key, message.body, {})
    # The decoder gives the properties under the Envelope's own field names.
    return Envelope(
        message.exchange, message.routing_key, message.body, header.headers, **header.properties
    )
