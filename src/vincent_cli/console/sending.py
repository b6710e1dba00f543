"""Casts and calls of exact envelopes, so history keeps what really went on the wire.

``Client.cast``/``Client.call`` build their envelope inside; the console needs the very
bytes and headers it sent (``show``, ``replay``, ``save``), so it builds envelopes itself
and sends them through the client's envelope-level methods: ``publish`` (confirmed) and
``request`` (the reply envelope).

::

    sender = Sender(client)
    envelope = build_call(client.exchange, "file.get", {}, timeout=5,
                          reply_to=await sender.reply_to())
    reply = await sender.call(envelope, timeout=5)
"""

from __future__ import annotations

from typing import Any

from vincent_core.client import Client, traced
from vincent_core.wire.deadlines import DEADLINE_HEADER, expiration_ms, now_ms
from vincent_core.wire.envelope import Envelope, new_id

__all__ = ["Sender", "fresh_copy", "with_trace"]


def with_trace(headers: dict[str, Any]) -> dict[str, Any]:
    """``headers`` as every vincent client sends them: a root message (the console's
    are) carries no trace header, its ``message_id`` is the trace id (contract 6.1)."""
    return traced(headers) or {}


def fresh_copy(
    envelope: Envelope,
    *,
    exchange: str,
    reply_to: str | None = None,
    ttl: float | None = None,
    now: int | None = None,
    **changes: Any,
) -> Envelope:
    """The message as it is sent again: new id, timestamp and (for a call) correlation id.

    Body and headers stay as they are, with one exception: an ``x-vincent-deadline``
    (absolute) would have passed long ago, so it moves to now plus the time to live the
    original had (its ``expiration``), or ``ttl`` seconds when given. A request gets
    ``reply_to`` as its reply address.
    """
    now = now_ms() if now is None else now
    expiration = expiration_ms(ttl) if ttl is not None else envelope.expiration
    headers = dict(envelope.headers)
    if DEADLINE_HEADER in headers and expiration and expiration.isdigit():
        headers[DEADLINE_HEADER] = now + int(expiration)
    fields: dict[str, Any] = {
        "exchange": exchange,
        "headers": headers,
        "expiration": expiration,
        "message_id": new_id(),
        "timestamp": now // 1000,
    }
    if envelope.reply_to:
        fields["reply_to"] = reply_to
        fields["correlation_id"] = new_id()
    fields.update(changes)
    return envelope.with_changes(**fields)


class Sender:
    """The console's casts and calls of exact envelopes, through its :class:`Client`
    (``publish`` and ``request``: the same confirms, timeouts, size limit and reply
    consumer as every client)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def reply_to(self) -> str:
        """The reply address for calls (starts the reply consumer on first use)."""
        return await self.client.reply_address()

    async def cast(self, envelope: Envelope, *, timeout: float | None = 30.0) -> None:
        """Publish, mandatory and confirmed (``NoRoute`` when nothing is bound)."""
        await self.client.publish(envelope, mandatory=True, timeout=timeout)

    async def call(self, envelope: Envelope, *, timeout: float) -> Envelope:
        """Publish a request and wait at most ``timeout`` seconds for its reply envelope.

        Raises ``NoRoute``, ``CallTimeout`` or ``ConnectionLost``; a cancelled wait
        forgets the request (a late reply is then dropped as unclaimed).
        """
        if not envelope.correlation_id or envelope.reply_to != await self.reply_to():
            raise ValueError("a call needs a correlation_id and this console's reply_to")
        return await self.client.request(envelope, timeout=timeout)

    @staticmethod
    def reply_wait(envelope: Envelope, default: float) -> float:
        """How long to wait for the reply to ``envelope``: its expiration, else ``default``."""
        if envelope.expiration and envelope.expiration.isdigit():
            return int(envelope.expiration) / 1000
        return default
