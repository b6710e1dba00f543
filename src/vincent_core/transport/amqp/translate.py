"""The seam where the connection's and the socket's errors become ``VincentError``\\ s.

Every broker refusal keeps its AMQP reply code and the (masked) URL: 530 on
``connection.open`` is an unknown vhost or a user without access to it, 403 during the
login a wrong user or password, 406 on a publish a message the broker will not take
(over its ``max_message_size``). Nothing else in the transport reads
:mod:`.exceptions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    NoRoute,
    PublishFailed,
    VincentError,
)
from vincent_core.transport.amqp.exceptions import (
    ACCESS_REFUSED,
    NOT_ALLOWED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    RESOURCE_LOCKED,
    AMQPError,
    ChannelClosed,
    ConnectionClosed,
    Nacked,
    Returned,
)

__all__ = [
    "close_cause",
    "closing_cause",
    "connect_failure",
    "publish_failure",
    "reason",
    "translate_errors",
]


def reason(exc: BaseException) -> str:
    """The broker's (or the socket's) words for ``exc``, one line."""
    if isinstance(exc, AMQPError):
        return exc.reply_text or str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def close_cause(exc: BaseException | None) -> str:
    """Why a channel or connection closed, from the exception it closed with."""
    return "closed" if exc is None else reason(exc)


def closing_cause(closing: asyncio.Future[Any]) -> str:
    """Why a channel closed, from its (done) ``closing`` future."""
    return close_cause(None if closing.cancelled() else closing.exception())


def _who(url: str) -> tuple[str, str]:
    """The vhost and user a URL names (``/`` and ``guest`` when it names none)."""
    parts = urlsplit(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    vhost = unquote(path) if path else "/"
    return vhost, unquote(parts.username or "guest")


def connect_failure(exc: BaseException, url: str, masked: str) -> VincentError:
    """What a failed ``connect`` to ``url`` (shown as ``masked``) means for the user."""
    if isinstance(exc, VincentError):
        return exc
    vhost, user = _who(url)
    if isinstance(exc, ConnectionClosed):
        code = exc.reply_code
        # A socket dropped mid-handshake (code 0) is not taken for a refusal: RabbitMQ
        # refuses with a close and its code (vincent asks for
        # authentication_failure_close), and a node going down drops sockets too.
        if code == NOT_ALLOWED or (exc.stage == "open" and code == ACCESS_REFUSED):
            return ConnectionFailed(
                f"cannot open vhost {vhost!r} on {masked} as user {user!r}: the broker refused "
                "(no such vhost, or the user has no access to it)",
                url=masked,
                reply_code=NOT_ALLOWED,
            )
        if code == ACCESS_REFUSED:
            return AuthenticationFailed(
                f"authentication failed for user {user!r} on {masked}: check the user and password",
                url=masked,
                reply_code=ACCESS_REFUSED,
            )
        return ConnectionFailed(
            f"cannot connect to {masked}: {reason(exc)}", url=masked, reply_code=code
        )
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ConnectionFailed(f"cannot connect to {masked}: TLS failed ({exc})", url=masked)
    if isinstance(exc, OSError):
        return ConnectionFailed(f"cannot connect to {masked}: {exc.strerror or exc}", url=masked)
    if isinstance(exc, ValueError | KeyError):
        return ConfigurationError(f"bad broker URL {masked}: {exc}")
    return ConnectionFailed(f"cannot connect to {masked}: {reason(exc)}", url=masked)


def publish_failure(exc: BaseException, key: str, masked: str) -> VincentError:
    """What an exception raised by a publish (or its confirm) to ``key`` means."""
    if isinstance(exc, VincentError):
        return exc
    if isinstance(exc, Returned):
        return NoRoute(exc.routing_key or key, exchange=exc.exchange)
    if isinstance(exc, Nacked):
        return PublishFailed(f"publish to {key!r}: the broker refused the message ({exc})")
    if isinstance(exc, ChannelClosed):
        code = exc.reply_code
        if code == NOT_FOUND:
            # No such exchange: the sender's configuration, not this message.
            return ConfigurationError(f"publish to {key!r}: {reason(exc)}")
        if code == PRECONDITION_FAILED and "larger than" not in reason(exc):
            # A malformed message (an invalid expiration, reply_to without its
            # consumer): the sender's input, not the broker's refusal of the message.
            return ConfigurationError(f"publish to {key!r}: {reason(exc)}")
        if code in (ACCESS_REFUSED, PRECONDITION_FAILED):
            return PublishFailed(
                f"publish to {key!r}: the broker refused the message ({reason(exc)})",
                reply_code=code,
            )
    return ConnectionLost(f"publish to {key!r}: connection to {masked} lost ({reason(exc)})")


@contextlib.contextmanager
def translate_errors(masked_url: str, what: str) -> Iterator[None]:
    """Connection and socket errors in, VincentErrors out (for everything but connect
    and publish, which have their own readings above)."""
    try:
        yield
    except VincentError:
        raise
    except (Returned, Nacked) as exc:
        raise publish_failure(exc, "", masked_url) from None
    except ChannelClosed as exc:
        if exc.reply_code in (PRECONDITION_FAILED, NOT_FOUND, RESOURCE_LOCKED):
            raise ConfigurationError(f"{what}: {reason(exc)}") from None
        if exc.reply_code == ACCESS_REFUSED:
            raise ConfigurationError(f"{what}: access refused: {reason(exc)}") from None
        raise ConnectionLost(f"{what}: connection to {masked_url} lost ({reason(exc)})") from None
    except (AMQPError, ConnectionError) as exc:
        raise ConnectionLost(f"{what}: connection to {masked_url} lost ({reason(exc)})") from None
