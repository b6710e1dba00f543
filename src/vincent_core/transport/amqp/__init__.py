"""The RabbitMQ transport, on vincent's own AMQP 0-9-1 connection: a module per job.

- :mod:`.machine`: the connection as a sans-io state machine (bytes in, events out)
- :mod:`.connection`, :mod:`.channel`, :mod:`.outbox`: its asyncio driver: the
  protocol, channels with their requests, consumers and confirms, coalesced writes
- :mod:`.endpoint`: URLs and TLS; :mod:`.exceptions`: the broker's refusals
- :mod:`.link`: one connection, its deadline, failover and reconnection
- :mod:`.publisher`: the confirm channel and the direct reply-to consumer
- :mod:`.consumers`: consumers, their channels and settlement
- :mod:`.translate`: connection errors into ``VincentError``s (the one seam)
- :mod:`.properties`, :mod:`.policies`: pure conversions and decisions
"""

from __future__ import annotations

from vincent_core.transport.amqp.properties import to_envelope, to_properties
from vincent_core.transport.amqp.transport import DEFAULT_CONNECT_TIMEOUT, AmqpTransport

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "AmqpTransport", "to_envelope", "to_properties"]
