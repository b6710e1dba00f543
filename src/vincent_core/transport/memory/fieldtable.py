"""Headers as the wire carries them: through AMQP's field-table codec (pamqp's, the one
the AMQP transport uses), so that memory:// hands a consumer what RabbitMQ would.

What changes on the way: a ``bytes`` value that is valid UTF-8 comes back ``str`` (it
travels as a long string), datetimes lose their microseconds and come back in UTC;
tuples, other objects and integers beyond 64 bits cannot travel at all (``EncodeError``,
as the AMQP transport raises when publishing them). Floats stay 64-bit doubles.
"""

from __future__ import annotations

from typing import Any

from pamqp import decode

from vincent_core.transport.frames import field_table
from vincent_core.wire.envelope import Envelope

__all__ = ["transmitted", "transmitted_headers"]


def transmitted_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """``headers`` encoded and decoded as an AMQP field table: a new, deep copy.

    Raises ``EncodeError`` for a value AMQP cannot carry.
    """
    if not headers:
        return {}
    return dict(decode.field_table(field_table(headers))[1])


def transmitted(envelope: Envelope) -> Envelope:
    """The copy of ``envelope`` a consumer would receive from RabbitMQ."""
    return envelope.with_changes(headers=transmitted_headers(envelope.headers))
