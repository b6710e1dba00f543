"""Broker connections: one shared transport per URL and event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vincent_core.config import mask_url
from vincent_core.errors import ConfigurationError

if TYPE_CHECKING:
    import asyncio

    # Both only for annotations: the one-shot `vincent cast` imports modules of this
    # package (frames, blocking) and must not pay for asyncio.
    from vincent_core.transport.base import Transport

__all__ = ["acquire", "create", "release"]


def create(url: str) -> Transport:
    """A new, unconnected transport for ``url`` (``amqp://``, ``amqps://`` or ``memory://``)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from vincent_core.transport.memory import MemoryTransport

        return MemoryTransport(url)
    if scheme in ("amqp", "amqps"):
        from vincent_core.transport.amqp import AmqpTransport

        return AmqpTransport(url)
    raise ConfigurationError(
        f"unsupported broker URL {mask_url(url)!r}: use amqp://, amqps:// or memory://"
    )


@dataclass
class _Shared:
    transport: Transport
    users: int
    ready: asyncio.Future[None]


_shared: dict[tuple[str, int], _Shared] = {}


async def acquire(url: str) -> Transport:
    """The process's connection to ``url`` on this event loop, connecting it on first use.

    Every ``acquire`` needs one ``release``; the last one closes the connection.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    slot = (url, id(loop))
    shared = _shared.get(slot)
    if shared is None:
        shared = _Shared(create(url), 0, loop.create_future())
        _shared[slot] = shared
        try:
            await shared.transport.connect()
        except BaseException as exc:
            del _shared[slot]
            shared.ready.set_exception(exc)
            # Nobody else may be waiting; do not leave "exception never retrieved" noise.
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
