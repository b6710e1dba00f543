"""Message bodies: Python values to bytes and back."""

from __future__ import annotations

from typing import Any

import orjson

from vincent_core.errors import EncodeError

__all__ = [
    "BINARY",
    "JSON",
    "UndecodableBody",
    "decode_body",
    "dumps",
    "encode_body",
    "is_json_type",
]

JSON = "application/json"
BINARY = "application/octet-stream"

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class UndecodableBody(ValueError):
    """A body that claims to be JSON and does not parse. It is never retried."""


def _default(value: Any) -> Any:
    # orjson asks only for what it cannot encode itself: a pydantic model goes out as its
    # JSON form (dataclasses and TypedDicts orjson encodes natively).
    if hasattr(type(value), "__pydantic_core_schema__") and hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Compact JSON; the one serialiser used everywhere (pydantic models included)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except TypeError as exc:
        raise EncodeError(f"cannot encode body as JSON: {exc}") from None


def encode_body(body: Any) -> tuple[bytes, str]:
    """Bytes pass through as ``application/octet-stream``; anything else becomes JSON."""
    if isinstance(body, bytes):
        return body, BINARY
    if isinstance(body, bytearray | memoryview):
        return bytes(body), BINARY
    return dumps(body), JSON


def is_json_type(content_type: str | None) -> bool:
    """``application/json`` with or without parameters (``; charset=utf-8``)."""
    if content_type == JSON:
        return True
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == JSON


def decode_body(body: bytes, content_type: str | None) -> Any:
    """JSON when declared (or undeclared and parseable), raw bytes otherwise.

    Raises :class:`UndecodableBody` when the content type says JSON and the body is not.
    """
    if is_json_type(content_type):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UndecodableBody(f"body claims {JSON} but does not parse: {exc}") from None
    if not content_type:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
    return body
