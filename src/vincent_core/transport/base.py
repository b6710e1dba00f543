"""The transport seam: everything vincent needs from a broker, and nothing more.

Two real implementations sit behind it: :mod:`.amqp` (RabbitMQ, on vincent's own
AMQP connection) and :mod:`.memory` (the in-process broker behind ``memory://``). The
rest of vincent never knows which one it talks to.

Semantics every transport keeps:

- ``publish`` returns only once the broker has the message (publisher confirms) and
  raises :class:`~vincent_core.errors.NoRoute` when ``mandatory`` and nothing is bound.
- Deliveries are acknowledged manually; a delivery neither acked nor rejected when its
  connection drops goes back to its queue.
- After a connection loss the transport reconnects with backoff and restores what it
  declared (exchanges, queues, bindings, consumers); waiters on the lost connection get
  :class:`~vincent_core.errors.ConnectionLost`.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from vincent_core.wire.envelope import Envelope

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DIRECT_REPLY_TO",
    "ConnectionState",
    "Delivery",
    "DeliveryHandler",
    "QueueInfo",
    "QueueSpec",
    "ReplyHandler",
    "StateListener",
    "Subscription",
    "Transport",
]

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"

#: ``blocked``: connected, but the broker blocks publishing (a memory or disk alarm);
#: consuming and acking go on
ConnectionState = Literal["connecting", "connected", "blocked", "reconnecting", "closed"]
StateListener = Callable[[ConnectionState], None]


@dataclass(slots=True)
class QueueSpec:
    """A queue to declare. ``arguments`` are the AMQP ``x-`` arguments."""

    name: str
    durable: bool = True
    exclusive: bool = False
    auto_delete: bool = False
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class QueueInfo:
    """What a (passive) declare tells about a queue."""

    name: str
    messages: int
    consumers: int


class Delivery(abc.ABC):
    """A message handed to a consumer, waiting for its ack or reject."""

    __slots__ = ("envelope", "redelivered")

    def __init__(self, envelope: Envelope, redelivered: bool) -> None:
        self.envelope = envelope
        self.redelivered = redelivered

    @abc.abstractmethod
    async def ack(self) -> None:
        """Done with it: the broker forgets the message."""

    @abc.abstractmethod
    async def reject(self, requeue: bool) -> None:
        """Hand it back (``requeue=True``) or drop it."""


DeliveryHandler = Callable[[Delivery], Awaitable[None]]
ReplyHandler = Callable[[Envelope], bool]


class Subscription(abc.ABC):
    """A running consumer."""

    @abc.abstractmethod
    async def cancel(self) -> None:
        """Stop receiving; unacked deliveries stay the consumer's to settle."""


class Transport(abc.ABC):
    """One connection to a broker, shared by every client and worker of a process."""

    #: the URL with its password masked, for messages and logs
    masked_url: str
    #: replies nobody waited for (late, after their call timed out, or stray): dropped
    unclaimed_replies: int = 0
    #: the largest frame the broker takes (negotiated; RabbitMQ's default until then): a
    #: content header frame, properties and headers included, must fit in it
    frame_max: int = 131072

    @abc.abstractmethod
    async def connect(self) -> None:
        """Connect (raising ``ConnectionFailed``/``AuthenticationFailed``)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection; unacked deliveries return to their queues."""

    def __init__(self) -> None:
        self._state: ConnectionState = "closed"
        self._listeners: list[StateListener] = []
        self._reply_loss_listeners: list[Callable[[str], None]] = []
        self._reply_handlers: list[ReplyHandler] = []

    @property
    def state(self) -> ConnectionState:
        """The connection's state now."""
        return self._state

    @property
    def blocked(self) -> bool:
        """True while the broker blocks this transport's publishes (a resource alarm)."""
        return self._state == "blocked"

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener`` on every state change."""
        self._listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        """Stop calling ``listener`` (missing is fine)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def remove_reply_loss_listener(self, listener: Callable[[str], None]) -> None:
        """Stop calling ``listener`` (missing is fine)."""
        if listener in self._reply_loss_listeners:
            self._reply_loss_listeners.remove(listener)

    def forget_replies(self, handler: ReplyHandler) -> None:
        """Unregister a reply handler from :meth:`replies` (missing is fine)."""
        if handler in self._reply_handlers:
            self._reply_handlers.remove(handler)

    def registrations(self) -> tuple[int, int, int]:
        """How many state listeners, reply-loss listeners and reply handlers are
        registered: a closed client leaves none of its own behind."""
        return len(self._listeners), len(self._reply_loss_listeners), len(self._reply_handlers)

    def _add_reply_handler(self, handler: ReplyHandler) -> None:
        if handler not in self._reply_handlers:
            self._reply_handlers.append(handler)

    def _deliver_reply(self, envelope: Envelope) -> None:
        """Hand a reply to the handler waiting for it, or count it as unclaimed."""
        for handler in self._reply_handlers:
            if handler(envelope):
                return
        # A late reply (its caller gave up) or a stray one: never anyone else's.
        self.unclaimed_replies += 1

    def add_reply_loss_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` when replies on their way can no longer arrive.

        A reconnect is reported as a state change; this is for the broker closing the
        reply channel alone (the connection stays up, requests already sent are lost).
        """
        self._reply_loss_listeners.append(listener)

    def _set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            for listener in list(self._listeners):
                listener(state)

    @abc.abstractmethod
    async def declare_exchange(self, name: str) -> None:
        """Declare a durable ``topic`` exchange with no arguments."""

    @abc.abstractmethod
    async def declare_queue(self, spec: QueueSpec) -> QueueInfo:
        """Declare a queue; it is declared again after a reconnect."""

    @abc.abstractmethod
    async def inspect_queue(self, name: str) -> QueueInfo | None:
        """A passive declare: the queue's depth and consumers, or ``None`` if missing."""

    @abc.abstractmethod
    async def delete_queue(self, name: str) -> None:
        """Delete a queue (missing is fine)."""

    @abc.abstractmethod
    async def purge_queue(self, name: str) -> int:
        """Drop every ready message of a queue; returns how many."""

    @abc.abstractmethod
    async def bind(self, queue: str, exchange: str, pattern: str) -> None:
        """Bind ``queue`` to ``exchange`` with a topic ``pattern``."""

    @abc.abstractmethod
    async def unbind(self, queue: str, exchange: str, pattern: str) -> None:
        """Remove a binding."""

    @abc.abstractmethod
    async def publish(
        self,
        envelope: Envelope,
        *,
        mandatory: bool = False,
        timeout: float | None = None,
        answered: asyncio.Future[Any] | None = None,
    ) -> None:
        """Publish and wait for the broker's confirm.

        Raises ``NoRoute`` (mandatory and unroutable), ``PublishFailed`` (nack, or not
        connected within ``timeout`` seconds) or ``ConnectionLost``.

        ``answered`` is a request's reply future: once it is done, the wait for the
        confirm ends too. A reply proves the request was routed and handled (a
        ``basic.return`` comes before any reply), and a worker acks a request only after
        its reply is confirmed, so the request's own confirm comes after the reply:
        waiting for it would add a hop to every call.
        """

    @abc.abstractmethod
    async def consume(
        self,
        queue: str,
        handler: DeliveryHandler,
        *,
        prefetch: int,
        exclusive: bool = False,
    ) -> Subscription:
        """Start a consumer with its own prefetch window, restored after reconnects."""

    @abc.abstractmethod
    async def get(self, queue: str) -> Delivery | None:
        """Take one message (``basic.get``, to be acked or rejected), or ``None``."""

    @abc.abstractmethod
    async def replies(self, handler: ReplyHandler, *, timeout: float | None = None) -> str:
        """Register a reply handler and return the address to put in ``reply_to``.

        Replies arrive through direct reply-to, on the channel requests are published
        on. Several handlers may share one address: each reply goes to the first that
        returns True (it was waiting for that correlation id). Raises
        ``ConnectionLost`` when the reply consumer cannot start within ``timeout``;
        :meth:`forget_replies` unregisters.
        """
