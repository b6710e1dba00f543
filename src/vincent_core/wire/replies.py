"""Replies: what a handler's outcome looks like on the wire, and back at the caller."""

from __future__ import annotations

import builtins
import traceback as traceback_module
from collections.abc import Sequence
from typing import Any

from vincent_core.errors import FieldError, InvalidMessage, Rejected, RemoteError
from vincent_core.wire.codec import UndecodableBody, decode_body, dumps, encode_body
from vincent_core.wire.envelope import Envelope

__all__ = [
    "INVALID_REPLY_TYPE",
    "INVALID_TYPE",
    "REJECTED_TYPE",
    "STATUS_HEADER",
    "build_error_reply",
    "build_ok_reply",
    "error_type_name",
    "read_reply",
]

STATUS_HEADER = "x-vincent-status"
REJECTED_TYPE = "vincent.Rejected"
#: the request body did not match the handler's declared type (the handler never ran)
INVALID_TYPE = "vincent.invalid"
#: the reply did not match its declared type
INVALID_REPLY_TYPE = "vincent.invalid-reply"


def error_type_name(exc: BaseException) -> str:
    """``ValueError`` for builtins, ``module.Class`` for everything else."""
    cls = type(exc)
    if cls.__module__ == "builtins" and getattr(builtins, cls.__name__, None) is cls:
        return str(cls.__qualname__)
    return f"{cls.__module__}.{cls.__qualname__}"


def _reply(request: Envelope, body: bytes, content_type: str, status: str) -> Envelope:
    if not request.reply_to:
        raise ValueError("the request has no reply_to")
    return Envelope(
        exchange="",
        routing_key=request.reply_to,
        body=body,
        headers={STATUS_HEADER: status},
        content_type=content_type,
        correlation_id=request.correlation_id,
    )


def build_ok_reply(request: Envelope, value: Any) -> Envelope:
    """The reply to ``request`` carrying a handler's return value (bytes stay bytes)."""
    body, content_type = encode_body(value)
    return _reply(request, body, content_type, "ok")


def build_error_reply(
    request: Envelope,
    exc: BaseException | None = None,
    *,
    type: str | None = None,
    message: str | None = None,
    traceback: str | None = None,
    errors: Sequence[FieldError] = (),
) -> Envelope:
    """The ``error`` reply to ``request``: ``{"type", "message", "traceback"}``, plus
    ``"errors": [{"path", "message"}, ...]`` when a body did not match its type."""
    if exc is not None:
        type = type or error_type_name(exc)
        message = message if message is not None else str(exc)
        if traceback is None:
            traceback = "".join(traceback_module.format_exception(exc))
    fields: dict[str, Any] = {
        "type": type or "Exception",
        "message": message or "",
        "traceback": traceback or "",
    }
    if errors:
        fields["errors"] = [{"path": e.path, "message": e.message} for e in errors]
    return _reply(request, dumps(fields), "application/json", "error")


def read_reply(reply: Envelope, key: str = "") -> Any:
    """The value a reply carries, or the remote error it stands for, raised.

    A reply without ``x-vincent-status`` (a foreign RPC server) is a success.
    """
    status = reply.headers.get(STATUS_HEADER)
    if isinstance(status, bytes):
        status = status.decode(errors="replace")
    try:
        value = decode_body(reply.body, reply.content_type)
    except UndecodableBody:
        value = reply.body
    if status != "error":
        return value
    if not isinstance(value, dict):
        raise RemoteError("Exception", repr(value), key=key)
    error_type = str(value.get("type") or "Exception")
    message = str(value.get("message") or "")
    if error_type == REJECTED_TYPE:
        raise Rejected(key, message)
    if error_type in (INVALID_TYPE, INVALID_REPLY_TYPE):
        raise InvalidMessage(error_type, message, _field_errors(value.get("errors")), key=key)
    raise RemoteError(error_type, message, str(value.get("traceback") or ""), key=key)


def _field_errors(value: Any) -> tuple[FieldError, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        FieldError(str(item.get("path") or ""), str(item.get("message") or ""))
        for item in value
        if isinstance(item, dict)
    )
