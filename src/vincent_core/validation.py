"""Checking values against declared types, and their JSON Schemas (pydantic v2).

One ``TypeAdapter`` per type, built once: pydantic models, dataclasses, TypedDicts and
plain annotations (``list[int]``) all go through the same three operations: validate a
decoded body into the type, dump a value of the type to JSON-ready data, and describe the
type as JSON Schema. pydantic is imported on first use, so an app without typed handlers
never pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vincent_core.errors import FieldError, InvalidMessage
from vincent_core.wire.codec import dumps
from vincent_core.wire.replies import INVALID_REPLY_TYPE, INVALID_TYPE

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

__all__ = [
    "FIELDS_HEADER_LIMIT",
    "adapter",
    "dump",
    "field_errors",
    "fields_header",
    "json_schema",
    "path_of",
    "type_name",
    "validate_body",
    "validate_reply",
]

#: the dead-letter header listing an invalid cast's fields never grows past this
FIELDS_HEADER_LIMIT = 8 * 1024

_adapters: dict[Any, TypeAdapter[Any]] = {}


def adapter(tp: Any) -> TypeAdapter[Any]:
    """The (cached) ``TypeAdapter`` of ``tp``."""
    try:
        return _adapters[tp]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation: build it every time
        return _new_adapter(tp)
    built = _adapters[tp] = _new_adapter(tp)
    return built


def _new_adapter(tp: Any) -> TypeAdapter[Any]:
    global _ValidationError
    from pydantic import TypeAdapter, ValidationError

    _ValidationError = ValidationError
    return TypeAdapter(tp)


# pydantic's ValidationError, once an adapter exists (a per-message import costs a µs)
_ValidationError: Any = None


def type_name(tp: Any) -> str:
    """``EncryptRequest`` for a class, ``list[int]`` for an annotation."""
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def path_of(location: Sequence[int | str]) -> str:
    """pydantic's error location as a path: ``("items", 0, "name")`` → ``items[0].name``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def field_errors(exc: ValidationError) -> tuple[FieldError, ...]:
    """The field errors of a pydantic ``ValidationError``, in its order."""
    return tuple(
        FieldError(path_of(error["loc"]), str(error["msg"]))
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    )


def validate_body(tp: Any, body: Any, *, key: str = "") -> Any:
    """``body`` (decoded JSON) validated into ``tp``; raises :class:`InvalidMessage`
    (``vincent.invalid``) listing the fields that do not match."""
    return _validate(tp, body, INVALID_TYPE, f"the body{_for(key)}", key)


def validate_reply(tp: Any, value: Any, *, key: str = "") -> Any:
    """A reply's value validated into ``tp`` (the caller's ``reply=``); raises
    :class:`InvalidMessage` (``vincent.invalid-reply``)."""
    return _validate(tp, value, INVALID_REPLY_TYPE, f"the reply{_from(key)}", key)


def _validate(tp: Any, value: Any, error_type: str, what: str, key: str) -> Any:
    typed = adapter(tp)
    try:
        return typed.validate_python(value)
    except _ValidationError as exc:
        errors = field_errors(exc)
        raise InvalidMessage(
            error_type, f"{what} does not match {type_name(tp)} ({_count(errors)})", errors, key=key
        ) from None


def dump(tp: Any, value: Any, *, key: str = "") -> Any:
    """``value`` as JSON-ready data, checked against ``tp`` first (a handler's return
    value). A value that is not a ``tp`` raises :class:`InvalidMessage`
    (``vincent.invalid-reply``)."""
    typed = adapter(tp)
    try:
        # A value of exactly the declared class needs no check (the common case).
        checked = value if type(value) is tp else typed.validate_python(value)
        return typed.dump_python(checked, mode="json")
    except _ValidationError as exc:
        errors = field_errors(exc)
        raise InvalidMessage(
            INVALID_REPLY_TYPE,
            f"the handler{_for(key)} returned {type(value).__name__}, which does not match "
            f"{type_name(tp)} ({_count(errors)})",
            errors,
            key=key,
        ) from None


def json_schema(tp: Any, *, mode: str = "validation") -> dict[str, Any]:
    """The JSON Schema of ``tp`` (``mode="serialization"`` for what a handler returns)."""
    schema: dict[str, Any] = adapter(tp).json_schema(mode=mode)  # type: ignore[arg-type]
    return schema


def fields_header(errors: Sequence[FieldError], limit: int = FIELDS_HEADER_LIMIT) -> str:
    """The field errors as a JSON list of ``{"path", "message"}`` for a dead letter's
    header: always valid JSON and at most ``limit`` bytes (the errors that do not fit are
    replaced by a last entry saying how many were left out)."""
    items = [{"path": e.path, "message": e.message} for e in errors]
    encoded = dumps(items)
    if len(encoded) <= limit:
        return encoded.decode()
    kept = list(items)
    while kept:
        kept.pop()
        left_out = len(items) - len(kept)
        marker = {"path": "", "message": f"... {left_out} more error(s) left out"}
        encoded = dumps([*kept, marker])
        if len(encoded) <= limit:
            return encoded.decode()
    # A single path or message longer than the limit: cut the text itself.
    first = items[0]
    # (a character takes at most 6 bytes in JSON: ``\u001b``)
    room = max(0, limit // 16 - 16)
    marker = {"path": "", "message": f"... {len(items)} error(s) cut"}
    cut = {"path": first["path"][:room], "message": first["message"][:room]}
    return dumps([cut, marker]).decode()


def _count(errors: Sequence[FieldError]) -> str:
    return "1 error" if len(errors) == 1 else f"{len(errors)} errors"


def _for(key: str) -> str:
    return f" for {key!r}" if key else ""


def _from(key: str) -> str:
    return f" from {key!r}" if key else ""
