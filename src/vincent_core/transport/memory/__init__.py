"""``memory://``: an in-process AMQP broker with RabbitMQ's semantics, for tests and
``vincent dev``.

Everything in one process that uses the same ``memory://`` URL talks to the same
:class:`MemoryBroker` (``memory://name`` reaches a separate one). Topic and default
exchanges, durable/exclusive/auto-delete queues, prefetch, round-robin, requeue at the
head, ``x-message-ttl`` and per-message ``expiration``, dead-letter exchanges with
``x-death``, quorum ``x-delivery-limit``, ``x-max-length`` and direct reply-to behave as
RabbitMQ's do. TTLs run on a clock: :class:`SystemClock` by default, or a
:class:`VirtualClock` a test moves with ``advance()``::

    clock = VirtualClock()
    get_broker(clock=clock)
    ...                  # a failed cast waits 1 s in its retry queue
    clock.advance(1)     # ...and is back on its queue now
"""

from vincent_core.transport.memory.activity import Activity, Watcher
from vincent_core.transport.memory.broker import MemoryBroker
from vincent_core.transport.memory.clock import Clock, SystemClock, Timer, VirtualClock
from vincent_core.transport.memory.registry import broker_name, get_broker, reset_broker
from vincent_core.transport.memory.transport import MemoryTransport

__all__ = [
    "Activity",
    "Clock",
    "MemoryBroker",
    "MemoryTransport",
    "SystemClock",
    "Timer",
    "VirtualClock",
    "Watcher",
    "broker_name",
    "get_broker",
    "reset_broker",
]
