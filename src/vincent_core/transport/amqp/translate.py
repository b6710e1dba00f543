"""The seam where aiormq and socket errors become ``VincentError``s.

Every broker refusal keeps its AMQP reply code and the (masked) URL: 530 on
``connection.open`` is an unknown vhost or a user without access to it, 403 a wrong
user or password, 406 on a publish a message the broker will not take (over its
``max_message_size``). Nothing else in the transport catches aiormq's exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import aiormq
from pamqp import commands as spec

from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    NoRoute,
    PublishFailed,
    VincentError,
)

__all__ = [
    "cancelled_by_aiormq",
    "close_cause",
    "closing_cause",
    "connect_failure",
    "publish_failure",
    "reason",
    "reply_code",
    "translate_errors",
]


def reply_code(exc: BaseException) -> int:
    """The AMQP reply code an aiormq exception carries (0 when none)."""
    for arg in exc.args:
        code = getattr(arg, "reply_code", None)
        if isinstance(code, int):
            return code
        if isinstance(arg, int) and 300 <= arg < 600:
            return arg
    frame = getattr(exc, "frame", None)
    code = getattr(frame, "reply_code", None)
    if isinstance(code, int):
        return code
    text = reason(exc)
    for known, number in (("NOT_ALLOWED", 530), ("ACCESS_REFUSED", 403)):
        if text.startswith(known):
            return number
    return 0


def reason(exc: BaseException) -> str:
    """The broker's (or the socket's) words for ``exc``, one line."""
    for arg in exc.args:
        if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], str):
            return arg[1]
    args = [a for a in exc.args if isinstance(a, str)]
    if args:
        return args[-1]
    for arg in exc.args:
        text = getattr(arg, "reply_text", None)
        if text:
            return str(text)
    return str(exc) or type(exc).__name__


def cancelled_by_aiormq() -> bool:
    """True when a ``CancelledError`` just caught is aiormq's, not ours.

    aiormq cancels the futures still pending on a connection it gives up (missed
    heartbeats, a closed socket): confirms, RPC answers. Awaiting one then raises
    ``CancelledError`` in a task nobody cancelled; letting that out of ``cast()`` would
    look like the caller's own cancellation. A task that *is* being cancelled (a
    timeout, a shutdown) has ``cancelling()`` set and must see its cancellation.
    """
    task = asyncio.current_task()
    return task is not None and not task.cancelling()


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


def _refused_at(exc: BaseException) -> str | None:
    """``open`` or ``login`` when the broker answered a handshake step with
    ``connection.close``. aiormq reports that as an unexpected frame and drops the
    frame's reply code, so its message is all there is to read."""
    if not isinstance(exc, aiormq.exceptions.InvalidFrameError):
        return None
    text = str(exc)
    if "Connection.Close" not in text:
        return None
    if "Connection.OpenOk" in text:
        return "open"
    if "Connection.Tune" in text or "Connection.Secure" in text:
        return "login"
    return None


def connect_failure(exc: BaseException, url: str, masked: str) -> VincentError:
    """What a failed ``connect`` to ``url`` (shown as ``masked``) means for the user."""
    if isinstance(exc, VincentError):
        return exc
    if isinstance(exc, aiormq.exceptions.IncompatibleProtocolError):
        return ConnectionFailed(f"{masked} does not speak AMQP 0-9-1", url=masked)
    code = reply_code(exc)
    vhost, user = _who(url)
    refused = _refused_at(exc)
    if code == 530 or refused == "open" or isinstance(exc, aiormq.exceptions.ConnectionNotAllowed):
        return ConnectionFailed(
            f"cannot open vhost {vhost!r} on {masked} as user {user!r}: the broker refused "
            "(no such vhost, or the user has no access to it)",
            url=masked,
            reply_code=530,
        )
    if refused == "login":
        code = 403
    if code == 403 or isinstance(
        exc,
        aiormq.exceptions.AuthenticationError | aiormq.exceptions.ProbableAuthenticationError,
    ):
        return AuthenticationFailed(
            f"authentication failed for user {user!r} on {masked}: check the user and password",
            url=masked,
            reply_code=code or 403,
        )
    if isinstance(exc, aiormq.exceptions.AMQPConnectionError):
        return ConnectionFailed(
            f"cannot connect to {masked}: {reason(exc)}", url=masked, reply_code=code
        )
    if isinstance(exc, OSError):
        return ConnectionFailed(f"cannot connect to {masked}: {exc.strerror or exc}", url=masked)
    if isinstance(exc, ValueError | KeyError):
        return ConfigurationError(f"bad broker URL {masked}: {exc}")
    return ConnectionFailed(f"cannot connect to {masked}: {reason(exc)}", url=masked)


def publish_failure(exc: BaseException, key: str, masked: str) -> VincentError:
    """What an exception raised by a publish (or its confirm) to ``key`` means."""
    if isinstance(exc, VincentError):
        return exc
    if isinstance(exc, aiormq.exceptions.PublishError):
        frame = exc.frame if isinstance(exc.frame, spec.Basic.Return) else None
        return NoRoute(
            (frame.routing_key if frame is not None else key) or key,
            exchange=(frame.exchange or "") if frame is not None else "",
        )
    if isinstance(exc, aiormq.exceptions.DeliveryError):
        return PublishFailed(f"publish to {key!r}: the broker refused the message ({exc})")
    code = reply_code(exc)
    if isinstance(exc, aiormq.exceptions.ChannelNotFoundEntity):
        # No such exchange: the sender's configuration, not this message.
        return ConfigurationError(f"publish to {key!r}: {reason(exc)}")
    if isinstance(exc, aiormq.exceptions.ChannelPreconditionFailed):
        if "larger than" not in reason(exc):
            # A malformed message (an invalid expiration, reply_to without its
            # consumer): the sender's input, not the broker's refusal of the message.
            return ConfigurationError(f"publish to {key!r}: {reason(exc)}")
        code = 406
    elif isinstance(exc, aiormq.exceptions.ChannelAccessRefused):
        code = 403
    if isinstance(exc, aiormq.exceptions.AMQPChannelError) and code in (403, 406):
        return PublishFailed(
            f"publish to {key!r}: the broker refused the message ({reason(exc)})",
            reply_code=code,
        )
    try:
        with translate_errors(masked, f"publish to {key!r}"):
            raise exc
    except VincentError as translated:
        return translated
    except BaseException:
        pass
    return ConnectionLost(f"publish to {key!r}: connection to {masked} lost ({reason(exc)})")


@contextlib.contextmanager
def translate_errors(masked_url: str, what: str) -> Iterator[None]:
    """aiormq and socket errors in, VincentErrors out (for everything but connect and
    publish, which have their own readings above)."""
    try:
        yield
    except VincentError:
        raise
    except asyncio.CancelledError:
        if cancelled_by_aiormq():
            raise ConnectionLost(f"{what}: connection to {masked_url} lost") from None
        raise
    except aiormq.exceptions.PublishError as exc:
        raise publish_failure(exc, "", masked_url) from None
    except aiormq.exceptions.DeliveryError as exc:
        raise PublishFailed(f"{what}: the broker refused the message ({exc})") from None
    except (
        aiormq.exceptions.ChannelPreconditionFailed,
        aiormq.exceptions.ChannelNotFoundEntity,
        aiormq.exceptions.ChannelLockedResource,
    ) as exc:
        raise ConfigurationError(f"{what}: {reason(exc)}") from None
    except aiormq.exceptions.ChannelAccessRefused as exc:
        raise ConfigurationError(f"{what}: access refused: {reason(exc)}") from None
    except (
        aiormq.exceptions.AMQPConnectionError,
        aiormq.exceptions.ChannelInvalidStateError,
        aiormq.exceptions.AMQPChannelError,
        ConnectionError,
    ) as exc:
        raise ConnectionLost(f"{what}: connection to {masked_url} lost ({reason(exc)})") from None
