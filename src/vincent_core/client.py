"""The async client: cast, call, and the raw operations the CLI and console build on."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from vincent_core import forks, observe
from vincent_core import transport as transports
from vincent_core.config import (
    DEFAULT_MAX_BODY,
    mask_url,
    resolve_connect_timeout,
    resolve_exchange,
    resolve_url,
)
from vincent_core.errors import (
    CallTimeout,
    ConnectionLost,
    MessageTooLarge,
    NoRoute,
    PublishFailed,
    Rejected,
    RemoteError,
    VincentError,
)
from vincent_core.observe import CallOutcome
from vincent_core.tap import Tap
from vincent_core.transport.base import (
    DIRECT_REPLY_TO,
    ConnectionState,
    Delivery,
    QueueInfo,
    Transport,
)
from vincent_core.wire.deadlines import now_ms, remaining_seconds
from vincent_core.wire.envelope import Envelope, build_call, build_cast, new_id
from vincent_core.wire.replies import read_reply
from vincent_core.wire.routing import check_key
from vincent_core.wire.trace import TRACE_HEADER, current_trace

__all__ = ["Client", "KeyProxy"]

log = logging.getLogger("vincent.client")


def traced(headers: dict[str, Any] | None) -> dict[str, Any] | None:
    """The headers with the trace of the message being handled, if any.

    A root message (sent outside any handler) carries no trace header: its receiver
    takes its ``message_id`` as the trace id. That spares every plain cast and call a
    second uuid4 and a nested field table to encode and decode.
    """
    trace = current_trace.get()
    if trace is None or (headers and TRACE_HEADER in headers):
        return headers
    result = dict(headers) if headers else {}
    result[TRACE_HEADER] = trace.header()
    return result


class KeyProxy:
    """``client.to.file.encrypt(key_id=1)`` casts ``{"key_id": 1}`` to ``file.encrypt``."""

    __slots__ = ("_parts", "_send")

    def __init__(self, send: Any, parts: tuple[str, ...] = ()) -> None:
        self._send = send
        self._parts = parts

    def __getattr__(self, name: str) -> KeyProxy:
        if name.startswith("__"):
            raise AttributeError(name)
        return KeyProxy(self._send, (*self._parts, name))

    def __getitem__(self, name: str) -> KeyProxy:
        return KeyProxy(self._send, (*self._parts, name))

    def __call__(self, body: Any = None, /, **params: Any) -> Any:
        if not self._parts:
            raise TypeError("name a key first: client.to.file.encrypt(...)")
        return self._send(".".join(self._parts), params if body is None else body)

    def __repr__(self) -> str:
        return f"<KeyProxy {'.'.join(self._parts) or '(root)'}>"


class Client:
    """Sends casts and calls to a vincent application.

    ::

        async with Client() as client:                 # VINCENT_BROKER_URL or localhost
            await client.cast("file.encrypt", {"key_id": 1234})
            data = await client.call("file.get", {"file": "/etc/hostname"}, timeout=5)

    Every cast is confirmed by the broker before ``cast`` returns. Calls share one reply
    consumer (direct reply-to) and are matched to their caller by correlation id.

    ``connect_timeout`` bounds connecting and the AMQP handshake (default 10 s, or
    ``VINCENT_CONNECT_TIMEOUT``); ``max_body`` is the largest body sent (16 MiB, the
    worker's own limit): a larger one raises ``MessageTooLarge`` before anything is
    sent. ``transport=`` plugs in a transport of your own (e.g. a ``MemoryTransport``
    in tests); the client connects it if needed and never closes it. Without it, every
    client of a process and event loop shares one transport per URL.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        exchange: str | None = None,
        transport: Transport | None = None,
        connect_timeout: float | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.url = resolve_url(url if transport is None else url or transport.masked_url)
        self.exchange = resolve_exchange(exchange)
        self.masked_url = mask_url(self.url) if transport is None else transport.masked_url
        self.connect_timeout = resolve_connect_timeout(connect_timeout)
        self.max_body = max_body
        self._given = transport
        self._transport: Transport | None = None
        self._reply_to = ""
        self._pending: dict[str, asyncio.Future[Envelope]] = {}
        self._declared_exchange = False
        self._connecting: asyncio.Lock | None = None
        self._fork = forks.generation

    # -- life cycle ------------------------------------------------------------------

    async def connect(self, *, timeout: float | None = None) -> Client:
        """Connect (idempotent). ``async with`` does it for you.

        ``timeout`` bounds this connect when it is shorter than ``connect_timeout``.
        """
        self._after_fork()
        if self._transport is not None:
            return self
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._transport is None:
                await self._open(timeout)
        return self

    async def _open(self, timeout: float | None) -> None:
        if self._given is not None:
            transport = self._given
            if transport.state == "closed":
                await transport.connect()
        else:
            transport = await transports.acquire(
                self.url, connect_timeout=_shorter(self.connect_timeout, timeout)
            )
        try:
            if self.exchange:
                await transport.declare_exchange(self.exchange)
        except BaseException:
            if self._given is None:
                await transports.release(transport)
            raise
        transport.add_state_listener(self._on_state)
        transport.add_reply_loss_listener(self._on_reply_loss)
        self._transport = transport
        if observe.observer is not None:
            observe.observer.connection(self.masked_url, transport.state)

    def _after_fork(self) -> None:
        """In a forked child, forget the parent's connection (it is the parent's to
        use and close: touching it here would corrupt both) and connect anew."""
        if self._fork == forks.generation:
            return
        self._fork = forks.generation
        if self._transport is not None:
            _orphans.append(self._transport)
        self._transport = None
        self._reply_to = ""
        self._pending = {}
        self._connecting = None

    async def close(self) -> None:
        """Fail pending calls and release the connection; nothing of this client stays
        registered on a shared transport."""
        self._after_fork()
        transport, self._transport = self._transport, None
        self._fail_pending(ConnectionLost("the client was closed"))
        self._reply_to = ""
        if transport is not None:
            transport.remove_state_listener(self._on_state)
            transport.remove_reply_loss_listener(self._on_reply_loss)
            transport.forget_replies(self._on_reply)
            if self._given is None:
                await transports.release(transport)

    async def __aenter__(self) -> Client:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def transport(self) -> Transport:
        """The connection in use (connect first)."""
        if self._transport is None:
            raise ConnectionLost("the client is not connected: use `async with Client()`")
        return self._transport

    @property
    def dropped_replies(self) -> int:
        """Replies dropped on this connection: late (their call had timed out) or stray.
        Never delivered to another caller."""
        return self._transport.unclaimed_replies if self._transport is not None else 0

    @property
    def state(self) -> ConnectionState:
        """``connected``, ``reconnecting``, ``closed``..."""
        return self._transport.state if self._transport is not None else "closed"

    def _on_state(self, state: ConnectionState) -> None:
        if observe.observer is not None:
            observe.observer.connection(self.masked_url, state)
        # A lost publishing connection takes the reply consumer with it: the transport
        # says so through the reply-loss listener. The consuming connection's loss
        # leaves calls waiting on their replies.
        if state == "closed":
            self._fail_pending(
                ConnectionLost(f"the connection to {self.masked_url} dropped while a call waited")
            )

    def _on_reply_loss(self, reason: str) -> None:
        self._fail_pending(ConnectionLost(f"{reason} while a call waited"))

    def _fail_pending(self, error: VincentError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    # -- cast ------------------------------------------------------------------------

    async def cast(
        self,
        key: str,
        body: Any = None,
        *,
        ttl: float | None = None,
        headers: dict[str, Any] | None = None,
        require_route: bool = False,
        deadline: int | None = None,
        timeout: float | None = 30.0,
    ) -> str:
        """Publish ``body`` to ``key``; returns once the broker confirmed it.

        With nothing bound to the key, logs a warning and returns (an event nobody
        listens to yet is normal), or raises ``NoRoute`` with ``require_route=True``.
        ``deadline`` (epoch ms) is inherited by casts made while handling a message.
        ``timeout`` bounds the wait for a connection during an outage. Returns the
        message id.
        """
        check_key(key)
        envelope = build_cast(
            self.exchange,
            key,
            {} if body is None else body,
            ttl=ttl,
            headers=traced(headers),
            deadline=deadline,
        )
        try:
            await self.publish(envelope, mandatory=True, timeout=timeout)
        except NoRoute:
            if require_route:
                raise
            log.warning("cast to %r: nothing is bound to it; the message was dropped", key)
        return envelope.message_id or ""

    async def publish(
        self, envelope: Envelope, *, mandatory: bool = False, timeout: float | None = 30.0
    ) -> None:
        """Publish an exact envelope (a cast, a replay), confirmed within ``timeout``
        seconds: the envelope-level half of :meth:`cast`. Raises ``MessageTooLarge``
        (before sending), ``NoRoute`` (``mandatory`` and unroutable), ``PublishFailed``
        or ``ConnectionLost``."""
        self._check_size(envelope)
        transport = self._ready()
        if transport is None:
            await self._connect_if_needed(timeout)
            transport = self.transport
        await transport.publish(envelope, mandatory=mandatory, timeout=timeout)

    def _check_size(self, envelope: Envelope) -> None:
        size = len(envelope.body)
        if size > self.max_body:
            raise MessageTooLarge(envelope.routing_key, size, self.max_body)

    # -- call ------------------------------------------------------------------------

    async def call(
        self,
        key: str,
        body: Any = None,
        *,
        timeout: float = 10.0,
        ttl: float | None = None,
        headers: dict[str, Any] | None = None,
        deadline: int | None = None,
        reply: Any = None,
    ) -> Any:
        """Send a request and return the handler's reply (bytes stay bytes).

        ``reply=Encrypted`` validates the reply into that type (a pydantic model,
        dataclass or TypedDict; ``InvalidMessage`` when it does not match). Raises
        ``NoRoute`` at once when nothing is bound, ``CallTimeout`` after ``timeout``
        seconds (or when an inherited ``deadline`` passes first),
        ``RemoteError`` when the handler raised, ``Rejected``, or ``ConnectionLost``.
        """
        check_key(key)
        loop = asyncio.get_running_loop()
        started = loop.time()
        envelope = build_call(
            self.exchange,
            key,
            {} if body is None else body,
            timeout=timeout,
            reply_to=self._reply_to or DIRECT_REPLY_TO,
            ttl=ttl,
            headers=traced(headers),
            deadline=deadline,
        )
        outcome: CallOutcome = "connection-lost"
        try:
            answer = await self.request(envelope, timeout=timeout, started=started)
            value = read_reply(answer, key)
            if reply is not None:
                from vincent_core.validation import validate_reply

                value = validate_reply(reply, value, key=key)
            outcome = "ok"
            return value
        except CallTimeout:
            outcome = "timeout"
            raise
        except NoRoute:
            outcome = "no-route"
            raise
        except RemoteError:
            outcome = "remote-error"
            raise
        except Rejected:
            outcome = "rejected"
            raise
        finally:
            watcher = observe.observer
            if watcher is not None:
                watcher.call(key, outcome, loop.time() - started)

    async def reply_address(self, *, timeout: float | None = None) -> str:
        """The ``reply_to`` of this client's requests (connecting and starting the
        reply consumer on first use, within ``timeout`` seconds)."""
        await self._connect_if_needed(timeout)
        if not self._reply_to:
            self._reply_to = await self.transport.replies(self._on_reply, timeout=timeout)
        return self._reply_to

    async def request(
        self, envelope: Envelope, *, timeout: float, started: float | None = None
    ) -> Envelope:
        """Send a prepared request envelope and return the reply envelope, as it came.

        The envelope-level half of :meth:`call`, for tools that build their own
        messages (the console, the test harness): its ``reply_to`` is set to this
        client's reply address, and a ``correlation_id`` is added if missing. The wait
        counts from ``started`` (the loop's clock; default now), connecting and starting
        the reply consumer included, and ends at ``timeout`` or at the envelope's
        ``x-vincent-deadline``, whichever comes first. Raises ``CallTimeout``,
        ``NoRoute``, ``PublishFailed``, ``MessageTooLarge`` or ``ConnectionLost``.
        """
        self._check_size(envelope)
        loop = asyncio.get_running_loop()
        if started is None:
            started = loop.time()
        key = envelope.routing_key
        if not envelope.correlation_id:
            envelope.correlation_id = new_id()
        correlation_id = envelope.correlation_id
        inherited = remaining_seconds(envelope.headers.get("x-vincent-deadline"), now_ms())
        wait = timeout if inherited is None else min(timeout, inherited)
        ends = started + max(0.0, wait)
        future: asyncio.Future[Envelope] = loop.create_future()
        try:
            async with asyncio.timeout_at(ends):
                if self._reply_to and self._ready() is not None:
                    envelope.reply_to = self._reply_to  # connected, replies consumed
                else:
                    envelope.reply_to = await self.reply_address(
                        timeout=max(0.0, ends - loop.time())
                    )
                transport = self.transport
                self._pending[correlation_id] = future
                await transport.publish(
                    envelope,
                    mandatory=True,
                    timeout=max(0.0, ends - loop.time()),
                    answered=future,
                )
                return await future
        except (TimeoutError, PublishFailed, ConnectionLost) as exc:
            if not isinstance(exc, TimeoutError) and loop.time() < ends - 0.05:
                raise
            # Not connected, no confirm or no reply until the call's time ran out.
            raise CallTimeout(
                key, timeout, correlation_id=correlation_id, hint=await self._timeout_hint(key)
            ) from None
        finally:
            self._pending.pop(correlation_id, None)
            if future.done() and not future.cancelled():
                # Failed while the publish still waited (connection lost): the publish's
                # own error is raised instead; mark this one seen so asyncio does not log it.
                future.exception()

    def _on_reply(self, reply: Envelope) -> bool:
        future = self._pending.pop(reply.correlation_id or "", None)
        if future is None:
            return False
        if not future.done():
            future.set_result(reply)
        return True

    async def _timeout_hint(self, key: str) -> str:
        # Asked after the call's time is up, so it may cost little: only on a live
        # connection, and briefly (a call ends within its timeout + 0.5 s).
        transport = self._transport
        if transport is None or transport.state not in ("connected", "blocked"):
            return "not connected to the broker"
        try:
            info = await asyncio.wait_for(transport.inspect_queue(key), _HINT_WAIT)
        except (VincentError, TimeoutError):
            return ""
        if info is not None and info.consumers == 0:
            return f"queue {key!r} has no consumers: is a worker running?"
        return ""

    @property
    def to(self) -> KeyProxy:
        """Attribute access to keys: ``await client.to.file.encrypt(key_id=1)`` casts."""
        return KeyProxy(self.cast)

    # -- raw operations for tools --------------------------------------------------

    def listen(self, *patterns: str, queue: str | None = None, prefetch: int = 100) -> Tap:
        """Tap a copy of the traffic matching ``patterns`` (an exclusive queue bound to
        the exchange: it steals nothing), or consume the real ``queue``."""
        return Tap(self, patterns, queue=queue, prefetch=prefetch)

    async def queue_info(self, name: str) -> QueueInfo | None:
        """A queue's depth and consumer count, or ``None`` when it does not exist."""
        await self._connect_if_needed()
        return await self.transport.inspect_queue(name)

    async def take(self, queue: str) -> Delivery | None:
        """Take one message from ``queue`` to ack or reject, or ``None`` when empty."""
        await self._connect_if_needed()
        return await self.transport.get(queue)

    async def purge(self, queue: str) -> int:
        """Drop every ready message of ``queue``; returns how many."""
        await self._connect_if_needed()
        return await self.transport.purge_queue(queue)

    def _ready(self) -> Transport | None:
        """The transport, when this process has connected it (no fork since): what the
        hot paths check before skipping :meth:`_connect_if_needed`."""
        return self._transport if self._fork == forks.generation else None

    async def _connect_if_needed(self, timeout: float | None = None) -> None:
        self._after_fork()
        if self._transport is None:
            await self.connect(timeout=timeout)


def _shorter(first: float, second: float | None) -> float:
    return first if second is None else max(0.001, min(first, second))


#: what the "no consumers?" hint of a timed-out call may add to it
_HINT_WAIT = 0.3

#: transports of a parent process, kept (never used, never closed) in a forked child:
#: closing them would unregister the parent's sockets from the selector they share
_orphans: list[Transport] = []
