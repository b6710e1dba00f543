"""Exchanges, queues and bindings of the in-process broker, and routing through them.

The checks are RabbitMQ's, with its reply codes in the messages: ``NOT_FOUND`` for a
missing queue or exchange, ``PRECONDITION_FAILED`` for a redeclaration that does not
match, ``RESOURCE_LOCKED`` for another connection's exclusive queue, ``ACCESS_REFUSED``
for reserved ``amq.`` names and the default exchange. All raise ``ConfigurationError``,
as the AMQP transport translates them. Not thread-safe by itself: the broker calls it
under its lock.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from vincent_core.errors import ConfigurationError
from vincent_core.transport.base import QueueSpec
from vincent_core.transport.memory.arguments import inequivalence
from vincent_core.transport.memory.connection import Connection
from vincent_core.transport.memory.queue import MemoryQueue
from vincent_core.wire.routing import topic_matches

__all__ = ["Topology"]

#: exchanges every RabbitMQ vhost has (of the types vincent uses)
PREDECLARED = ("amq.topic",)


class Topology:
    """What is declared, and where a routing key leads."""

    def __init__(self) -> None:
        self.exchanges: set[str] = set(PREDECLARED)
        self.queues: dict[str, MemoryQueue] = {}
        self._bindings: dict[str, list[tuple[str, str]]] = defaultdict(list)

    # -- exchanges -------------------------------------------------------------------

    def declare_exchange(self, name: str) -> None:
        if name.startswith("amq.") and name not in self.exchanges:
            raise ConfigurationError(
                f"declare exchange {name!r}: ACCESS_REFUSED - "
                "exchange names starting with 'amq.' are reserved"
            )
        if name:
            self.exchanges.add(name)

    def has_exchange(self, name: str) -> bool:
        return not name or name in self.exchanges

    # -- queues ----------------------------------------------------------------------

    def declare_queue(self, connection: Connection, spec: QueueSpec) -> MemoryQueue:
        """The queue ``spec`` names, created if new, checked against ``spec`` if not."""
        if not spec.name:
            name = f"amq.gen-{uuid.uuid4().hex}"
            spec = QueueSpec(name, spec.durable, spec.exclusive, spec.auto_delete, spec.arguments)
        elif spec.name.startswith("amq."):
            raise ConfigurationError(
                f"declare queue {spec.name!r}: ACCESS_REFUSED - "
                "queue names starting with 'amq.' are reserved"
            )
        what = f"declare queue {spec.name!r}"
        queue = self.queues.get(spec.name)
        if queue is not None:
            self.check_access(connection, queue, what)
            why = inequivalence(queue.spec, spec)
            if why is not None:
                raise ConfigurationError(f"{what}: PRECONDITION_FAILED - {why}")
            return queue
        stored = QueueSpec(
            spec.name, spec.durable, spec.exclusive, spec.auto_delete, dict(spec.arguments)
        )
        queue = MemoryQueue(stored, owner=connection if spec.exclusive else None)
        self.queues[spec.name] = queue
        return queue

    def queue(self, name: str, what: str, connection: Connection) -> MemoryQueue:
        """The queue ``name``, which ``connection`` may use, or ``ConfigurationError``."""
        queue = self.queues.get(name)
        if queue is None:
            raise ConfigurationError(f"{what}: NOT_FOUND - no queue {name!r}")
        self.check_access(connection, queue, what)
        return queue

    @staticmethod
    def check_access(connection: Connection, queue: MemoryQueue, what: str) -> None:
        if queue.owner is not None and queue.owner is not connection:
            raise ConfigurationError(
                f"{what}: RESOURCE_LOCKED - cannot obtain exclusive access to locked queue "
                f"{queue.name!r}: it is exclusive to another connection"
            )

    def delete(self, queue: MemoryQueue) -> None:
        """Remove a queue with its messages and bindings; its consumers stop (and are told)."""
        queue.deleted = True
        self.queues.pop(queue.name, None)
        queue.cancel_timer()
        queue.ready.clear()
        for bindings in self._bindings.values():
            bindings[:] = [b for b in bindings if b[0] != queue.name]
        for consumer in list(queue.consumers):
            consumer.active = False
            queue.remove_consumer(consumer)
            if consumer in consumer.connection.consumers:
                consumer.connection.consumers.remove(consumer)
            if consumer.cancelled_by_broker is not None:
                consumer.cancelled_by_broker()

    # -- bindings and routing ----------------------------------------------------------

    def bind(self, connection: Connection, queue: str, exchange: str, pattern: str) -> None:
        self._check_binding(connection, queue, exchange, f"bind {queue!r} to {exchange!r}")
        if (queue, pattern) not in self._bindings[exchange]:
            self._bindings[exchange].append((queue, pattern))

    def unbind(self, connection: Connection, queue: str, exchange: str, pattern: str) -> None:
        self._check_binding(connection, queue, exchange, f"unbind {queue!r} from {exchange!r}")
        if (queue, pattern) in self._bindings[exchange]:
            self._bindings[exchange].remove((queue, pattern))

    def _check_binding(self, connection: Connection, queue: str, exchange: str, what: str) -> None:
        if not exchange:
            raise ConfigurationError(
                f"{what}: ACCESS_REFUSED - operation not permitted on the default exchange"
            )
        if exchange not in self.exchanges:
            raise ConfigurationError(f"{what}: NOT_FOUND - no exchange {exchange!r}")
        self.queue(queue, what, connection)

    def bindings(self, exchange: str) -> list[tuple[str, str]]:
        return list(self._bindings.get(exchange, ()))

    def route(self, exchange: str, key: str) -> list[MemoryQueue]:
        """The queues a message to ``exchange`` with ``key`` goes to, each once.

        The default exchange ``""`` leads to the queue named ``key``; a topic exchange
        to every queue with a binding whose pattern matches.
        """
        if not exchange:
            queue = self.queues.get(key)
            return [queue] if queue is not None else []
        matched: dict[str, MemoryQueue] = {}
        for name, pattern in self._bindings.get(exchange, ()):
            if name not in matched and name in self.queues and topic_matches(pattern, key):
                matched[name] = self.queues[name]
        return list(matched.values())
