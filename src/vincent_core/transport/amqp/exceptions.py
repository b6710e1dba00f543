"""What the owned AMQP connection raises: the broker's refusals with their reply codes.

Pure data, no I/O. :mod:`.translate` turns these into ``VincentError``\\ s; nothing else
in vincent sees them.
"""

from __future__ import annotations

__all__ = [
    "AMQPError",
    "ChannelClosed",
    "ConnectionClosed",
    "Nacked",
    "Returned",
]

#: AMQP reply codes vincent reads (RabbitMQ's names)
CONNECTION_FORCED = 320
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
NOT_ALLOWED = 530


class AMQPError(Exception):
    """The broker ended something with a reply code (0: the socket went away)."""

    def __init__(
        self, reply_code: int, reply_text: str, class_id: int = 0, method_id: int = 0
    ) -> None:
        super().__init__(reply_code, reply_text)
        self.reply_code = reply_code
        self.reply_text = reply_text
        self.class_id = class_id
        self.method_id = method_id

    def __str__(self) -> str:
        if self.reply_code:
            return f"{self.reply_text} ({self.reply_code})"
        return self.reply_text


class ConnectionClosed(AMQPError):
    """The connection is gone: closed by the broker (``reply_code``), lost (0), or
    closed by us. ``stage`` is ``login`` or ``open`` when the broker refused the
    handshake there, ``""`` otherwise."""

    def __init__(
        self,
        reply_code: int,
        reply_text: str,
        class_id: int = 0,
        method_id: int = 0,
        *,
        stage: str = "",
    ) -> None:
        super().__init__(reply_code, reply_text, class_id, method_id)
        self.stage = stage


class ChannelClosed(AMQPError):
    """The broker closed one channel (404 no such queue, 406 precondition failed...)."""


class Returned(AMQPError):
    """A mandatory publish the broker could not route: ``basic.return``."""

    def __init__(self, reply_code: int, reply_text: str, exchange: str, routing_key: str) -> None:
        super().__init__(reply_code, reply_text)
        self.exchange = exchange
        self.routing_key = routing_key


class Nacked(AMQPError):
    """The broker nacked a publish (it could not take responsibility for it)."""

    def __init__(self) -> None:
        super().__init__(0, "the broker nacked the message")
