"""vincent: RPC and messaging between daemons over AMQP 0-9-1 (RabbitMQ).

::

    from vincent_core import Vincent, Message, Client

    app = Vincent()

    @app.listen("file.get")
    async def get(msg: Message) -> bytes:
        ...
"""

from vincent_core._version import __version__
from vincent_core.app import Service, Vincent
from vincent_core.client import Client
from vincent_core.errors import (
    AuthenticationFailed,
    CallTimeout,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    EncodeError,
    NoRoute,
    PublishFailed,
    Rejected,
    RemoteError,
    VincentError,
)
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
    "Message",
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
