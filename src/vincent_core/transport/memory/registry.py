"""One broker per name per process: what ``memory://`` URLs reach.

``memory://`` and ``memory:///`` name the default broker; ``memory://tests`` (or
``memory:///tests``) another one, as separate as two RabbitMQ vhosts.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from vincent_core.transport.memory.broker import MemoryBroker
from vincent_core.transport.memory.clock import Clock

__all__ = ["broker_name", "get_broker", "reset_broker"]

_brokers: dict[str, MemoryBroker] = {}
_lock = threading.Lock()


def broker_name(url: str) -> str:
    """The broker a ``memory://`` URL names (``""`` for the default one)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{host}{parts.path}".strip("/")


def get_broker(name: str = "", clock: Clock | None = None) -> MemoryBroker:
    """The process's broker called ``name``, created on first use.

    With ``clock``, the broker measures TTLs on it from now on (see
    :meth:`MemoryBroker.use_clock`).
    """
    with _lock:
        broker = _brokers.get(name)
        if broker is None:
            broker = _brokers[name] = MemoryBroker(clock, name=name)
            return broker
    if clock is not None and broker.clock is not clock:
        broker.use_clock(clock)
    return broker


def reset_broker(name: str | None = None) -> None:
    """Forget the broker ``name`` (every broker when ``None``): the next use starts from
    an empty one. For test isolation; transports still connected keep the old broker,
    so close them first."""
    with _lock:
        names = list(_brokers) if name is None else [name]
        dropped = [_brokers.pop(key) for key in names if key in _brokers]
    for broker in dropped:
        broker.shutdown()
