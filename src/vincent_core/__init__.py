"""vincent: RPC and messaging between daemons over AMQP 0-9-1 (RabbitMQ).

::

    from vincent_core import Vincent, Message, Client

    app = Vincent()

    @app.listen("file.get")
    async def get(msg: Message) -> bytes:
        ...

The errors are imported with the package; ``Vincent``, ``Service``, ``Client``,
``SyncClient`` and ``Message`` on first use (PEP 562), so that a tool needing only the
wire layer (``vincent cast`` in a shell loop) does not pay for asyncio and pamqp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vincent_core._version import __version__
from vincent_core.errors import (
    AuthenticationFailed,
    CallTimeout,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    EncodeError,
    FieldError,
    InvalidMessage,
    MessageTooLarge,
    NoRoute,
    PublishFailed,
    Rejected,
    RemoteError,
    VincentError,
)

if TYPE_CHECKING:
    from vincent_core.app import Service, Vincent
    from vincent_core.client import Client
    from vincent_core.message import Message
    from vincent_core.sync_client import SyncClient

__all__ = [
    "AuthenticationFailed",
    "CallTimeout",
    "Client",
    "ConfigurationError",
    "ConnectionFailed",
    "ConnectionLost",
    "EncodeError",
    "FieldError",
    "InvalidMessage",
    "Message",
    "MessageTooLarge",
    "NoRoute",
    "PublishFailed",
    "Rejected",
    "RemoteError",
    "Service",
    "SyncClient",
    "Vincent",
    "VincentError",
    "__version__",
]

_LAZY = {
    "Client": "vincent_core.client",
    "Message": "vincent_core.message",
    "Service": "vincent_core.app",
    "SyncClient": "vincent_core.sync_client",
    "Vincent": "vincent_core.app",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vincent_core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
