"""One AMQP connection of a transport: connect with a deadline, fail over, reconnect.

A transport holds two links to the same broker: one publishes, one consumes and acks.
RabbitMQ blocks a connection that publishes during a memory or disk alarm and then
stops reading it, acks included; a link that never publishes is never blocked.

A link knows nothing of channels: after each (re)connect it calls ``on_open`` with the
new connection (the owner opens its channels and restores what it declared), and when
the connection drops it calls ``on_lost`` before it reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from vincent_core.config import mask_url
from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    VincentError,
)
from vincent_core.transport.amqp.connection import Connection, connect
from vincent_core.transport.amqp.policies import backoff
from vincent_core.transport.amqp.translate import close_cause, connect_failure

__all__ = ["Link", "LinkState"]

log = logging.getLogger("vincent.transport")

LinkState = Literal["connecting", "connected", "reconnecting", "closed"]

#: how long a close may wait for the broker's close-ok before the socket is dropped
CLOSE_TIMEOUT = 2.0


class Link:
    """One connection, over the first URL of ``urls`` that answers."""

    def __init__(
        self,
        role: Literal["publish", "consume"],
        urls: list[str],
        masked_url: str,
        *,
        connect_timeout: float,
        on_open: Callable[[Connection], Awaitable[None]],
        on_lost: Callable[[str], None],
        on_change: Callable[[], None],
    ) -> None:
        self.role = role
        self.urls = urls
        self.masked_url = masked_url
        self.connect_timeout = connect_timeout
        self._on_open = on_open
        self._on_lost = on_lost
        self._on_change = on_change
        self._url_index = 0
        self.connection: Connection | None = None
        self.connected = asyncio.Event()
        self.state: LinkState = "closed"
        #: True while the broker blocks this connection (a resource alarm)
        self.blocked = False
        self.blocked_reason = ""
        self.frame_max = 131072
        self._closing = False
        self._watcher: asyncio.Task[None] | None = None

    def _set(self, state: LinkState) -> None:
        if state != self.state:
            self.state = state
            self._on_change()

    @property
    def closing(self) -> bool:
        """True once :meth:`close` began."""
        return self._closing

    def alive(self, connection: Connection | None) -> bool:
        """True while ``connection`` is this link's current, open connection."""
        return (
            not self._closing
            and connection is not None
            and self.connection is connection
            and not connection.is_closed
        )

    async def connect(self) -> None:
        """Connect (raising ``ConnectionFailed`` and kin); reconnects on its own after."""
        self._closing = False
        self._set("connecting")
        try:
            await self._open()
        except BaseException:
            self._set("closed")
            raise
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _connect_one(self, url: str) -> Connection:
        masked = mask_url(url)
        # Named after its job in the management UI, unless the URL names it (?name=).
        named = "name=" in url.partition("?")[2]
        properties = None if named else {"connection_name": f"vincent {self.role}"}
        try:
            async with asyncio.timeout(self.connect_timeout):
                return await connect(url, client_properties=properties)
        except TimeoutError:
            raise ConnectionFailed(
                f"cannot connect to {masked}: no AMQP handshake within "
                f"{self.connect_timeout:g}s (connect_timeout)",
                url=masked,
            ) from None
        except Exception as exc:
            raise connect_failure(exc, url, masked) from None

    async def _open(self) -> None:
        # Several URLs are the nodes of one cluster: start with the one that worked last
        # and fail over to the next. A refusal (wrong password, no such vhost) is the
        # same everywhere: stop there.
        failure: ConnectionFailed | None = None
        for attempt in range(len(self.urls)):
            index = (self._url_index + attempt) % len(self.urls)
            try:
                connection = await self._connect_one(self.urls[index])
            except ConnectionFailed as exc:
                if isinstance(exc, AuthenticationFailed) or exc.reply_code:
                    raise
                failure = exc
                continue
            self._url_index = index
            break
        else:
            assert failure is not None
            if len(self.urls) > 1:
                raise ConnectionFailed(
                    f"cannot connect to any of {self.masked_url}: {failure}", url=self.masked_url
                )
            raise failure
        try:
            self.connection = connection
            self.frame_max = connection.frame_max
            self.blocked = False
            connection.on_blocked = self._blocked
            async with asyncio.timeout(self.connect_timeout):
                await self._on_open(connection)
        except BaseException as exc:
            await connection.close(CLOSE_TIMEOUT)
            if isinstance(exc, TimeoutError):
                raise ConnectionFailed(
                    f"cannot connect to {self.masked_url}: the broker did not open channels "
                    f"within {self.connect_timeout:g}s",
                    url=self.masked_url,
                ) from None
            raise
        self.connected.set()
        self._set("connected")

    def _blocked(self, blocked: bool, reason: str) -> None:
        self.blocked, self.blocked_reason = blocked, reason
        if blocked:
            log.warning(
                "the broker blocked the %s connection to %s (%s): publishes wait",
                self.role,
                self.masked_url,
                reason or "resource alarm",
            )
        else:
            log.warning("the broker unblocked the %s connection to %s", self.role, self.masked_url)
        self._on_change()

    async def _watch(self) -> None:
        while not self._closing:
            connection = self.connection
            assert connection is not None
            cause = "closed"
            try:
                await connection.closing
            except BaseException as exc:
                cause = close_cause(exc if isinstance(exc, Exception) else None)
            if self.closing:  # (a property: mypy would take the loop's test as final)
                return
            self.connected.clear()
            if self.blocked:  # a new connection starts unblocked
                self._blocked(False, "")
            self._set("reconnecting")
            log.warning(
                "%s connection to %s lost; reconnecting (%s)", self.role, self.masked_url, cause
            )
            self._on_lost(cause)
            attempt = 0
            while not self._closing:
                try:
                    await self._open()
                    log.warning("%s connection: reconnected to %s", self.role, self.masked_url)
                    break
                except Exception as exc:
                    delay = backoff(attempt)
                    attempt += 1
                    # A topology the broker now refuses (someone redeclared a queue with
                    # other arguments) is worth shouting about, and so is anything that
                    # is not a VincentError (a bug), but giving up would leave the
                    # process connected to nothing: keep trying.
                    loud = isinstance(exc, ConfigurationError) or not isinstance(exc, VincentError)
                    level = logging.ERROR if loud else logging.DEBUG
                    log.log(
                        level,
                        "reconnect to %s failed (%s); next in %ss",
                        self.masked_url,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)

    async def close(self, *, flush: float = 5.0) -> None:
        """Close after the acks already written (``connection.close`` follows them),
        waiting up to ``flush`` + :data:`CLOSE_TIMEOUT` seconds for the broker's
        ``close-ok``; a broker that does not answer has its socket dropped."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        connection = self.connection
        if connection is not None:
            # A blocked connection is not read by the broker: its close-ok never comes.
            await connection.close(0 if self.blocked else flush + CLOSE_TIMEOUT)
        self.connected.clear()
        self._set("closed")
