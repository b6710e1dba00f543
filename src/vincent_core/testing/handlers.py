"""Run one handler or ``Service`` alone, with a fake message and a fake connection.

No broker, no worker: the handler runs as the dispatcher would run it (``async def`` on
the loop, plain ``def`` in a thread with blocking ``msg.cast``/``msg.call``), and what
it casts and calls is recorded; calls are answered from canned ``replies``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vincent_core.app.listener import Handler, Listener
from vincent_core.app.service import Service, listener_for_service
from vincent_core.app.typed import Refused
from vincent_core.client import Client
from vincent_core.errors import ConfigurationError, NoRoute, Rejected
from vincent_core.message import Message, RejectMessage, ThreadMessage
from vincent_core.testing.records import SentMessage, decoded, over_the_wire
from vincent_core.wire.envelope import Envelope, build_call, build_cast
from vincent_core.wire.replies import build_ok_reply
from vincent_core.wire.routing import topic_matches

__all__ = ["FakeClient", "HandlerRun", "call_handler", "call_service", "fake_message"]

#: where a fake call's reply would go (never used: nothing is published)
FAKE_REPLY_TO = "amq.rabbitmq.reply-to.fake"


class FakeClient(Client):
    """Stands in for the app's connection when a handler runs alone: records every cast
    and call, and answers calls from ``replies``.

    ``replies`` maps a key (or a topic pattern) to the reply: a value, a function of the
    request body (sync or async), or an exception instance to raise (``RemoteError``
    for a remote failure). A call to a key with no reply raises ``NoRoute``, as calling
    a key nobody listens to does.

    ::

        client = FakeClient({"file.get": b"secret", "file.stat": lambda body: {"size": 6}})
        message = fake_message({"file": "a.txt"}, key="file.encrypt", client=client)
    """

    def __init__(
        self, replies: Mapping[str, Any] | None = None, *, exchange: str = "vincent"
    ) -> None:
        super().__init__("memory://", exchange=exchange)
        self.replies: dict[str, Any] = dict(replies or {})
        self.sent: list[SentMessage] = []

    async def connect(self, *, timeout: float | None = None) -> Client:
        raise ConfigurationError("a FakeClient does not connect: it only records")

    # Client builds every cast and call (trace header, deadline, size limit) and hands
    # the envelope to these two: the fake records it instead of sending it.
    async def publish(
        self, envelope: Envelope, *, mandatory: bool = False, timeout: float | None = 30.0
    ) -> None:
        self._check_size(envelope)
        self.sent.append(SentMessage.from_envelope(envelope))

    async def request(
        self, envelope: Envelope, *, timeout: float, started: float | None = None
    ) -> Envelope:
        self._check_size(envelope)
        envelope.reply_to = FAKE_REPLY_TO
        request = SentMessage.from_envelope(envelope)
        self.sent.append(request)
        reply = self._reply_for(envelope.routing_key)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            reply = reply(request.body)
            if inspect.isawaitable(reply):
                reply = await reply
        # What the caller gets is what survives the wire (tuples become lists).
        return build_ok_reply(envelope, reply)

    def _reply_for(self, key: str) -> Any:
        if key in self.replies:
            return self.replies[key]
        for pattern, reply in self.replies.items():
            if topic_matches(pattern, key):
                return reply
        raise NoRoute(key, exchange=self.exchange)


def fake_message(
    body: Any = None,
    *,
    key: str = "test",
    headers: Mapping[str, Any] | None = None,
    call: bool = False,
    timeout: float = 10.0,
    redelivered: bool = False,
    client: Client | None = None,
    envelope: Envelope | None = None,
) -> Message:
    """A ``Message`` as a handler receives it, for calling a handler yourself.

    ``call=True`` makes it a request (``reply_to``, ``correlation_id``, a deadline
    ``timeout`` seconds away). Its ``cast`` and ``call`` go to ``client`` (a new
    :class:`FakeClient` by default) and return awaitables: for a plain ``def`` handler
    that casts or calls, use :func:`call_handler`, which runs it in a thread.

    ::

        msg = fake_message({"file": "hello.txt"}, key="file.get", call=True)
        assert get(msg) == b"hello"
    """
    return _message(body, key, headers, call, timeout, redelivered, client, envelope, None)


def _message(
    body: Any,
    key: str,
    headers: Mapping[str, Any] | None,
    call: bool,
    timeout: float,
    redelivered: bool,
    client: Client | None,
    envelope: Envelope | None,
    loop: asyncio.AbstractEventLoop | None,
) -> Message:
    if envelope is None:
        body = {} if body is None else body
        extra = dict(headers or {})
        if call:
            envelope = build_call(
                "vincent", key, body, timeout=timeout, reply_to=FAKE_REPLY_TO, headers=extra
            )
        else:
            envelope = build_cast("vincent", key, body, headers=extra)
    # The handler sees the body as it comes off the wire, not the object passed in.
    value = over_the_wire(body) if body is not None else decoded(envelope)
    client = client if client is not None else FakeClient()
    if loop is not None:
        return ThreadMessage(envelope, value, redelivered=redelivered, client=client, loop=loop)
    return Message(envelope, value, redelivered=redelivered, client=client)


@dataclass
class HandlerRun:
    """What one run of a handler did: its return value and what it sent.

    ::

        run = await call_handler(encrypt, {"file": "a", "key_id": 1},
                                 replies={"file.get": b"abc"})
        assert run.result["size"] == 3
        assert [c.key for c in run.casts()] == ["file.encrypted"]
    """

    result: Any
    sent: list[SentMessage] = field(default_factory=list)

    def casts(self, pattern: str = "#") -> list[SentMessage]:
        """The casts the handler made whose key matches ``pattern``."""
        return [m for m in self.sent if not m.is_call and m.matches(pattern)]

    def calls(self, pattern: str = "#") -> list[SentMessage]:
        """The calls the handler made whose key matches ``pattern``."""
        return [m for m in self.sent if m.is_call and m.matches(pattern)]


async def call_handler(
    handler: Handler,
    body: Any = None,
    *,
    key: str = "test",
    call: bool = True,
    headers: Mapping[str, Any] | None = None,
    replies: Mapping[str, Any] | None = None,
    redelivered: bool = False,
) -> HandlerRun:
    """Run a function handler once on a fake message, the way the worker would.

    ``call=True`` (the default) runs it as a call: its return value must survive the
    wire, and ``result`` is what the caller would get (``EncodeError`` when it cannot
    travel). An exception the handler raises propagates as is; ``msg.reject()`` raises
    ``Rejected``.
    """
    return await _run(Listener(key, handler), body, key, call, headers, replies, redelivered)


async def call_service(
    service: type[Service],
    params: Any = None,
    *,
    call: bool = True,
    key: str | None = None,
    headers: Mapping[str, Any] | None = None,
    replies: Mapping[str, Any] | None = None,
    redelivered: bool = False,
) -> HandlerRun:
    """Run a ``Service`` class once on fake params: ``handle_call`` for ``call=True``,
    ``handle_cast`` otherwise (or whichever one it defines), on a new instance.

    ::

        run = await call_service(FilePut, {"file": "a"}, call=False)
        assert run.casts("file.stored")
    """
    listener = listener_for_service(service)
    used_key = key or listener.key
    return await _run(listener, params, used_key, call, headers, replies, redelivered)


async def _run(
    listener: Listener,
    body: Any,
    key: str,
    call: bool,
    headers: Mapping[str, Any] | None,
    replies: Mapping[str, Any] | None,
    redelivered: bool,
) -> HandlerRun:
    client = FakeClient(replies)
    is_async, runner = listener.plan(call)
    loop = asyncio.get_running_loop()
    message = _message(
        body,
        key,
        headers,
        call,
        10.0,
        redelivered,
        client,
        None,
        None if is_async else loop,
    )
    try:
        if is_async:
            result = await runner(message)
        else:
            context = contextvars.copy_context()
            result = await loop.run_in_executor(None, context.run, runner, message)
    except RejectMessage as reject:
        raise Rejected(key, str(reject)) from None
    except Refused as refused:  # what the caller would get: the fields that do not match
        raise refused.error from None
    if call:
        result = over_the_wire(result)
    return HandlerRun(result, client.sent)
