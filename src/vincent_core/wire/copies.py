"""What every copy vincent publishes of a received message must respect (sans-io).

A retry, dead-letter or hand-off copy is the original with a few headers changed. The
broker refuses some of what the original carried, or what the error adds:

- ``user_id``: RabbitMQ checks it against the publishing connection's user, so a copy
  of another user's message would close the worker's channel (406). The copy carries
  none; the sender is kept in ``x-vincent-original-user``.
- size: a content header frame larger than the connection's ``frame_max`` closes the
  connection. Error texts are cut to :data:`MAX_ERROR_TEXT` bytes each, and then, if
  the whole header frame still does not fit, cut further.
- error texts come from arbitrary exceptions: :func:`error_text` never raises, even
  for an exception whose ``__str__`` does.
"""

from __future__ import annotations

import traceback as traceback_module
from typing import Any

from vincent_core.wire.envelope import Envelope
from vincent_core.wire.fieldtable import encode_table

__all__ = [
    "DEFAULT_FRAME_MAX",
    "MAX_ERROR_TEXT",
    "ORIGINAL_USER_HEADER",
    "CopyTooLarge",
    "cut_text",
    "error_text",
    "error_traceback",
    "fit_frame",
    "header_frame_size",
    "without_user_id",
]

#: RabbitMQ's default ``frame_max`` (the most a client may send in one frame)
DEFAULT_FRAME_MAX = 131072
#: the most ``x-vincent-error-message`` and ``x-vincent-error-traceback`` carry, in bytes
MAX_ERROR_TEXT = 8192
ORIGINAL_USER_HEADER = "x-vincent-original-user"
_ERROR_HEADERS = ("x-vincent-error-traceback", "x-vincent-error-message")
# frame type, channel, size, end octet; class, weight, body size, property flags
_FRAME_OVERHEAD = 8
_HEADER_FIXED = 14


class CopyTooLarge(ValueError):
    """The headers of a copy cannot fit ``frame_max`` even with the error texts cut."""


def cut_text(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """``text`` if its UTF-8 fits ``limit`` bytes, else its head and a marker saying
    how much was cut, within ``limit`` bytes."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    marker = f" ...[cut: {len(data)} bytes in all]"
    keep = max(0, limit - len(marker.encode()))
    head = data[:keep].decode("utf-8", "ignore")
    return (head + marker).encode("utf-8", "ignore")[:limit].decode("utf-8", "ignore")


def error_text(error: BaseException) -> str:
    """``str(error)``, or a description of it when ``__str__`` raises."""
    try:
        return str(error)
    except Exception as exc:  # any __str__ may raise; this text must not
        return f"<{type(error).__name__}: str() failed with {type(exc).__name__}>"


def error_traceback(error: BaseException) -> str:
    """The formatted traceback of ``error``; never raises."""
    try:
        return "".join(traceback_module.format_exception(error))
    except Exception as exc:
        return f"<traceback unavailable: {type(exc).__name__}>"


def without_user_id(envelope: Envelope, headers: dict[str, Any]) -> None:
    """Move ``envelope``'s ``user_id`` into ``headers`` (the copy carries none)."""
    if envelope.user_id is not None:
        headers.setdefault(ORIGINAL_USER_HEADER, envelope.user_id)


def _short(value: str | None) -> int:
    return 0 if value is None else 1 + len(value.encode())


def header_frame_size(envelope: Envelope) -> int:
    """The bytes of ``envelope``'s content header frame, framing included."""
    size = _FRAME_OVERHEAD + _HEADER_FIXED
    for value in (
        envelope.content_type,
        envelope.content_encoding,
        envelope.correlation_id,
        envelope.reply_to,
        envelope.expiration,
        envelope.message_id,
        envelope.type,
        envelope.user_id,
        envelope.app_id,
    ):
        size += _short(value)
    size += (envelope.delivery_mode is not None) + (envelope.priority is not None)
    size += 8 if envelope.timestamp is not None else 0
    if envelope.headers:
        size += len(encode_table(envelope.headers))
    return size


def fit_frame(envelope: Envelope, frame_max: int = DEFAULT_FRAME_MAX) -> Envelope:
    """``envelope`` with its error texts cut until its header frame fits ``frame_max``.

    Raises :class:`CopyTooLarge` when even empty error texts do not make it fit (the
    original's own headers fill the frame). Raises ``TypeError``/``ValueError`` for
    headers AMQP cannot carry.
    """
    size = header_frame_size(envelope)
    if size <= frame_max:
        return envelope
    headers = dict(envelope.headers)
    for name in _ERROR_HEADERS:
        value = headers.get(name)
        if not isinstance(value, str) or not value:
            continue
        excess = size - frame_max
        have = len(value.encode("utf-8", "surrogatepass"))
        headers[name] = cut_text(value, max(0, have - excess - 64))
        size = header_frame_size(envelope.with_changes(headers=headers))
        if size <= frame_max:
            return envelope.with_changes(headers=headers)
    raise CopyTooLarge(
        f"the copy's headers need {size} bytes, more than the frame_max of {frame_max}"
    )
