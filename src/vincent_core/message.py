"""The message a handler receives."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, NoReturn

from vincent_core.wire.deadlines import deadline_from_headers
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.trace import TRACE_HEADER, Trace, read_trace

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["Message", "RejectMessage"]


class RejectMessage(Exception):
    """Raised by :meth:`Message.reject`; the dispatcher hands the message on."""


class Message:
    """One received message: its key, decoded body and AMQP details.

    ::

        @app.listen("file.encrypt")
        async def encrypt(msg: Message):
            data = await msg.call("file.get", {"file": msg["file"]})
            await msg.cast("file.encrypted", {"file": msg["file"]})

    A ``call`` made here inherits the message's deadline (a nested call never gets more
    time than its caller has left); ``cast`` and ``call`` both carry its trace. In a
    plain ``def`` handler (run in a worker thread) they block and return the result
    instead of a coroutine.
    """

    __slots__ = ("_client", "body", "envelope", "redelivered")

    def __init__(self, envelope: Envelope, body: Any, *, redelivered: bool, client: Client) -> None:
        self.envelope = envelope
        self.body = body
        self.redelivered = redelivered
        self._client = client

    @property
    def key(self) -> str:
        """The routing key it was published with: the one it arrived with, or, on a
        retry or hand-off copy that vincent routed back to this listener's queue, the
        original key that copy carries (``x-vincent-original-key`` is not believed on
        any other message)."""
        return self.envelope.routing_key

    @property
    def params(self) -> Any:
        """The decoded body (alias of :attr:`body`)."""
        return self.body

    @property
    def headers(self) -> dict[str, Any]:
        """The AMQP headers."""
        return self.envelope.headers

    @property
    def id(self) -> str:
        """The AMQP ``message_id`` (``""`` when the sender set none)."""
        return str(self.envelope.message_id or "")

    @property
    def reply_to(self) -> str | None:
        """Where the reply goes, for a call."""
        return self.envelope.reply_to

    @property
    def correlation_id(self) -> str | None:
        """The call's correlation id."""
        return self.envelope.correlation_id

    @property
    def deadline(self) -> int | None:
        """The absolute deadline (epoch ms) this message carries, if any."""
        return deadline_from_headers(self.envelope.headers)

    @property
    def expects_reply(self) -> bool:
        """True for a call (it has ``reply_to``)."""
        return bool(self.envelope.reply_to)

    def __getitem__(self, name: str) -> Any:
        if isinstance(self.body, dict):
            return self.body[name]
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        """``msg.get("x", default)`` on a JSON-object body."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def __contains__(self, name: object) -> bool:
        return isinstance(self.body, dict) and name in self.body

    def reject(self, reason: str = "") -> NoReturn:
        """Hand this message to another consumer of the same queue. Does not return."""
        raise RejectMessage(reason)

    @property
    def trace(self) -> Trace:
        """Where this message sits in its request tree (``x-vincent-trace``)."""
        return read_trace(self.envelope.headers) or Trace(self.id or "0" * 32)

    def _inherit(self, options: dict[str, Any], *, deadline: bool) -> dict[str, Any]:
        if deadline:
            options.setdefault("deadline", self.deadline)
        headers = dict(options.get("headers") or {})
        headers.setdefault(TRACE_HEADER, self.trace.child(self.key).header())
        options["headers"] = headers
        return options

    def cast(self, key: str, body: Any = None, **options: Any) -> Any:
        """Cast with this message's trace (awaitable; blocking in a ``def`` handler).

        Unlike a call, a cast does not inherit the deadline: an event outlives the
        request that caused it unless it gets a ``ttl`` of its own.
        """
        return self._client.cast(key, body, **self._inherit(options, deadline=False))

    def call(self, key: str, body: Any = None, **options: Any) -> Any:
        """Call with this message's deadline and trace (awaitable; blocking in a ``def``
        handler)."""
        return self._client.call(key, body, **self._inherit(options, deadline=True))

    def __repr__(self) -> str:
        return f"<Message {self.key} id={self.id}>"


class ThreadMessage(Message):
    """The message as a plain ``def`` handler sees it: ``cast``/``call`` block."""

    __slots__ = ("_loop",)

    def __init__(
        self,
        envelope: Envelope,
        body: Any,
        *,
        redelivered: bool,
        client: Client,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(envelope, body, redelivered=redelivered, client=client)
        self._loop = loop

    def cast(self, key: str, body: Any = None, **options: Any) -> Any:
        from vincent_core.app.threads import handler_waits

        with handler_waits():
            return asyncio.run_coroutine_threadsafe(
                super().cast(key, body, **options), self._loop
            ).result()

    def call(self, key: str, body: Any = None, **options: Any) -> Any:
        from vincent_core.app.threads import handler_waits

        with handler_waits():
            return asyncio.run_coroutine_threadsafe(
                super().call(key, body, **options), self._loop
            ).result()
