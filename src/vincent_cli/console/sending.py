"""Casts and calls of exact envelopes, so history keeps what really went on the wire.

``Client.cast``/``Client.call`` build their envelope inside; the console needs the very
bytes and headers it sent (``show``, ``replay``, ``save``), so it builds envelopes itself
and uses the transport's public seam: a confirmed ``publish`` and a reply handler on
the shared reply consumer (direct reply-to).

::

    sender = Sender(client)
    envelope = build_call(client.exchange, "file.get", {}, timeout=5,
                          reply_to=await sender.reply_to())
    reply = await sender.call(envelope, timeout=5)
"""

from __future__ import annotations

import asyncio
from typing import Any

from vincent_core.client import Client
from vincent_core.errors import CallTimeout, ConnectionLost
from vincent_core.transport.base import ConnectionState
from vincent_core.wire.deadlines import DEADLINE_HEADER, expiration_ms, now_ms
from vincent_core.wire.envelope import Envelope, new_id
from vincent_core.wire.trace import TRACE_HEADER, Trace

__all__ = ["Sender", "fresh_copy", "with_trace"]


def with_trace(headers: dict[str, Any]) -> dict[str, Any]:
    """``headers`` plus a new root trace, as every vincent client sends."""
    result = dict(headers)
    result.setdefault(TRACE_HEADER, Trace.new().header())
    return result


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
    """Publishes envelopes as they are; waits for the replies to the console's calls."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._pending: dict[str, asyncio.Future[Envelope]] = {}
        self._reply_to = ""

    async def reply_to(self) -> str:
        """The reply address for calls (starts the reply consumer on first use)."""
        if not self._reply_to:
            transport = self.client.transport
            self._reply_to = await transport.replies(self._on_reply)
            transport.add_state_listener(self._on_state)
            transport.add_reply_loss_listener(self._fail_pending)
        return self._reply_to

    def _on_reply(self, reply: Envelope) -> bool:
        future = self._pending.pop(reply.correlation_id or "", None)
        if future is None:
            return False
        if not future.done():
            future.set_result(reply)
        return True

    def _on_state(self, state: ConnectionState) -> None:
        # Direct reply-to lives on the channel: a reply cannot arrive after a reconnect.
        if state in ("reconnecting", "closed"):
            self._fail_pending(f"the connection to {self.client.masked_url} dropped")

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(f"{reason} while a call waited"))

    async def cast(self, envelope: Envelope, *, timeout: float | None = 30.0) -> None:
        """Publish, mandatory and confirmed (``NoRoute`` when nothing is bound)."""
        await self.client.connect()
        await self.client.transport.publish(envelope, mandatory=True, timeout=timeout)

    async def call(self, envelope: Envelope, *, timeout: float) -> Envelope:
        """Publish a request and wait at most ``timeout`` seconds for its reply envelope.

        Raises ``NoRoute``, ``CallTimeout`` or ``ConnectionLost``; a cancelled wait
        forgets the request (a late reply is then dropped as unclaimed).
        """
        correlation_id = envelope.correlation_id or ""
        if not correlation_id or envelope.reply_to != await self.reply_to():
            raise ValueError("a call needs a correlation_id and this console's reply_to")
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            async with asyncio.timeout(timeout):
                await self.client.transport.publish(envelope, mandatory=True)
                return await future
        except TimeoutError:
            raise CallTimeout(
                envelope.routing_key, timeout, correlation_id=correlation_id
            ) from None
        finally:
            self._pending.pop(correlation_id, None)
            if not future.done():
                future.cancel()

    @staticmethod
    def reply_wait(envelope: Envelope, default: float) -> float:
        """How long to wait for the reply to ``envelope``: its expiration, else ``default``."""
        if envelope.expiration and envelope.expiration.isdigit():
            return int(envelope.expiration) / 1000
        return default
