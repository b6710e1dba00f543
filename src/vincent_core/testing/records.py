"""What the testing kit hands back: messages that were sent, and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vincent_core.wire.codec import UndecodableBody, decode_body, encode_body
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.failures import ATTEMPTS_HEADER, ORIGINAL_KEY, attempts_of
from vincent_core.wire.routing import topic_matches

__all__ = ["DeadLetter", "SentMessage", "decoded", "over_the_wire"]


def decoded(envelope: Envelope) -> Any:
    """The body as a handler would see it; raw bytes when it does not decode."""
    try:
        return decode_body(envelope.body, envelope.content_type)
    except UndecodableBody:
        return envelope.body


def over_the_wire(value: Any) -> Any:
    """``value`` after a trip through the body codec, as a receiver gets it: tuples
    become lists, bytes stay bytes. Raises ``EncodeError`` for what cannot travel."""
    payload, content_type = encode_body(value)
    return decode_body(payload, content_type)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


@dataclass(frozen=True)
class SentMessage:
    """A cast or a call request as it was published, body decoded.

    ::

        [event] = t.casts("file.encrypted")
        assert event["file"] == "hello.txt"
    """

    key: str
    body: Any
    headers: dict[str, Any]
    envelope: Envelope
    #: False when no queue was bound to the key (the message was dropped)
    routed: bool = True

    @classmethod
    def from_envelope(cls, envelope: Envelope, *, routed: bool = True) -> SentMessage:
        return cls(envelope.routing_key, decoded(envelope), envelope.headers, envelope, routed)

    @property
    def params(self) -> Any:
        """Alias of :attr:`body`, as on ``Message``."""
        return self.body

    @property
    def is_call(self) -> bool:
        """True for a call request (it has ``reply_to``)."""
        return bool(self.envelope.reply_to)

    def matches(self, pattern: str) -> bool:
        """Whether the key matches a topic pattern (``file.*``, ``audit.#``)."""
        return topic_matches(pattern, self.key)

    def __getitem__(self, name: str) -> Any:
        if isinstance(self.body, dict):
            return self.body[name]
        raise KeyError(name)


@dataclass(frozen=True)
class DeadLetter:
    """A message in the dead-letter queue, with why it is there.

    ::

        [dead] = t.dead_letters("file.encrypt")
        assert dead.reason == "error" and dead.error_type == "KeyError"
    """

    #: the key it was first published with
    key: str
    body: Any
    #: ``error``, ``undecodable``, ``rejected`` or ``too-large``
    reason: str
    queue: str
    error_type: str
    error_message: str
    error_traceback: str
    #: how many times a handler ran it
    attempts: int
    #: ISO-8601
    dead_at: str
    headers: dict[str, Any]
    envelope: Envelope

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> DeadLetter:
        headers = envelope.headers

        def header(name: str) -> str:
            return _text(headers.get(name, ""))

        return cls(
            key=_text(headers.get(ORIGINAL_KEY, envelope.routing_key)),
            body=decoded(envelope),
            reason=header("x-vincent-reason"),
            queue=header("x-vincent-queue"),
            error_type=header("x-vincent-error-type"),
            error_message=header("x-vincent-error-message"),
            error_traceback=header("x-vincent-error-traceback"),
            attempts=attempts_of(headers) if ATTEMPTS_HEADER in headers else 0,
            dead_at=header("x-vincent-dead-at"),
            headers=headers,
            envelope=envelope,
        )
