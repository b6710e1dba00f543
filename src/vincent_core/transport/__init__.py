"""Broker connections: one shared transport per URL and event loop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vincent_core.config import mask_url
from vincent_core.errors import ConfigurationError, ConnectionLost

if TYPE_CHECKING:
    import asyncio

    # Both only for annotations: the one-shot `vincent cast` imports modules of this
    # package (frames, blocking) and must not pay for asyncio.
    from vincent_core.transport.base import Transport

__all__ = ["acquire", "create", "release"]


def create(url: str, *, connect_timeout: float | None = None) -> Transport:
    """A new, unconnected transport for ``url`` (``amqp://``, ``amqps://`` or ``memory://``).

    ``connect_timeout`` bounds connecting and the AMQP handshake (default 10 s).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from vincent_core.transport.memory import MemoryTransport

        return MemoryTransport(url)
    if scheme in ("amqp", "amqps"):
        from vincent_core.transport.amqp import AmqpTransport

        if connect_timeout is None:
            return AmqpTransport(url)
        return AmqpTransport(url, connect_timeout=connect_timeout)
    raise ConfigurationError(
        f"unsupported broker URL {mask_url(url)!r}: use amqp://, amqps:// or memory://"
    )


@dataclass
class _Shared:
    transport: Transport
    users: int
    ready: asyncio.Future[None]


_shared: dict[tuple[str, int], _Shared] = {}


#: a forked child's view of its parent's transports: never used, never closed there
_inherited: list[_Shared] = []


def _forget_after_fork() -> None:
    # The parent's connections are the parent's: a child that closed them would
    # unregister the parent's sockets from the selector both share. Keep them
    # referenced (never collected, never closed) and connect anew on first use.
    _inherited.extend(_shared.values())
    _shared.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


async def acquire(url: str, *, connect_timeout: float | None = None) -> Transport:
    """The process's connection to ``url`` on this event loop, connecting it on first use.

    Every ``acquire`` needs one ``release``; the last one closes the connection.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    slot = (url, id(loop))
    shared = _shared.get(slot)
    if shared is None:
        shared = _Shared(create(url, connect_timeout=connect_timeout), 0, loop.create_future())
        _shared[slot] = shared
        try:
            await shared.transport.connect()
        except BaseException as exc:
            del _shared[slot]
            if not isinstance(exc, Exception):  # cancelled: the first caller's deadline
                exc = ConnectionLost(f"connecting to {mask_url(url)} was given up")
            shared.ready.set_exception(exc)
            # Nobody else may be waiting; no "exception never retrieved" noise.
            shared.ready.exception()
            raise
        shared.ready.set_result(None)
    else:
        await asyncio.shield(shared.ready)
    shared.users += 1
    return shared.transport


async def release(transport: Transport) -> None:
    """Give back a transport from :func:`acquire`; the last user closes it."""
    for slot, shared in list(_shared.items()):
        if shared.transport is transport:
            shared.users -= 1
            if shared.users <= 0:
                del _shared[slot]
                await transport.close()
            return
    await transport.close()
