"""The RabbitMQ transport, on aiormq: one package, a module per job.

- :mod:`.link`: one connection, its deadline, failover and reconnection
- :mod:`.publisher`: the confirm channel and the direct reply-to consumer
- :mod:`.consumers`: consumers, their channels and settlement
- :mod:`.translate`: aiormq errors into ``VincentError``s (the one seam)
- :mod:`.seam`: aiormq's types, and every reach into its private state
- :mod:`.properties`, :mod:`.policies`: pure conversions and decisions
"""

from __future__ import annotations

from vincent_core.transport.amqp.properties import to_envelope, to_properties
from vincent_core.transport.amqp.transport import DEFAULT_CONNECT_TIMEOUT, AmqpTransport

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "AmqpTransport", "to_envelope", "to_properties"]
