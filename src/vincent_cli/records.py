"""The record format: one message as one JSON line, what ``listen``/``record`` write and
``replay`` reads. Pure functions, no I/O.

::

    {"ts": "2026-11-28T06:20:37.123456+00:00", "exchange": "vincent",
     "key": "file.encrypt", "headers": {}, "properties": {"content_type":
     "application/json", "delivery_mode": 2, "message_id": "...", "timestamp": 1795...},
     "body": {"key_id": 1234}}

- ``ts``: when the message was received, ISO-8601 with its UTC offset (optional when
  reading: only ``replay --timing`` needs it).
- ``headers``: the AMQP header table, ``{}`` when there is none.
- ``properties``: the AMQP basic properties that were set, by snake_case name.
- ``body``: the parsed value whenever the body is JSON (content type JSON or none),
  whatever its spacing, so ``vincent listen | jq .body`` works for every publisher.
- ``body_b64``: standard base64 of the exact bytes, for a body that is not JSON, and
  *beside* ``body`` when vincent's compact re-encoding of the value is not the received
  bytes (``json.dumps`` spacing, key order, escapes). Replay sends ``body_b64`` when it is
  there, so it reproduces the body byte for byte; a hand-written record needs only
  ``body``.

AMQP header values JSON cannot carry are tagged as one-key objects: ``{"$bytes": base64}``
(a byte array, or a string that is not UTF-8), ``{"$timestamp": ISO-8601}``,
``{"$decimal": "1.50"}``; a real one-key table whose key is one of these tags (or
``$table``) is wrapped as ``{"$table": {...}}``. Other keys of a record are ignored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from vincent_cli.exit_codes import CommandError

if TYPE_CHECKING:
    from vincent_core.wire.envelope import Envelope

__all__ = [
    "Record",
    "RecordError",
    "body_fields",
    "decode_header_value",
    "dump_record",
    "encode_header_value",
    "parse_record",
    "read_records",
    "to_record",
]

_TAGS = ("$bytes", "$timestamp", "$decimal", "$table")
_INT_PROPERTIES = ("delivery_mode", "priority", "timestamp")


class RecordError(ValueError):
    """A record line that cannot be turned back into a message."""


@dataclass(frozen=True, slots=True)
class Record:
    """A recorded message: when it was received (``None`` in a hand-written record
    without ``ts``), and the message itself."""

    ts: dt.datetime | None
    envelope: Envelope


def encode_header_value(value: Any) -> Any:
    """An AMQP field value as JSON (see the module docstring for the tags)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Mapping):
        table = {str(k): encode_header_value(v) for k, v in value.items()}
        if len(table) == 1 and next(iter(table)) in _TAGS:
            return {"$table": table}
        return table
    if isinstance(value, list | tuple):
        return [encode_header_value(v) for v in value]
    return value


def decode_header_value(value: Any) -> Any:
    """The inverse of :func:`encode_header_value`. Bytes come back as ``bytearray``, which
    the AMQP encoder sends as a byte array."""
    if isinstance(value, dict):
        if len(value) == 1:
            tag, inner = next(iter(value.items()))
            try:
                if tag == "$bytes":
                    return bytearray(base64.b64decode(inner, validate=True))
                if tag == "$timestamp":
                    return dt.datetime.fromisoformat(inner)
                if tag == "$decimal":
                    return decimal.Decimal(inner)
            except (TypeError, ValueError, binascii.Error, decimal.InvalidOperation) as exc:
                raise RecordError(f"bad {tag} header value {inner!r}: {exc}") from None
            if tag == "$table":
                if not isinstance(inner, dict):
                    raise RecordError(f"bad $table header value {inner!r}")
                return {k: decode_header_value(v) for k, v in inner.items()}
        return {k: decode_header_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_header_value(v) for v in value]
    return value


def body_fields(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The body's fields of a record: ``body`` for JSON, ``body_b64`` for anything else
    and beside ``body`` when re-encoding the value would not give the exact bytes."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in ("application/json", ""):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if orjson.dumps(value) == body:
                return {"body": value}
            # Readable as JSON, but replay must send the bytes that came.
            return {"body": value, "body_b64": base64.b64encode(body).decode("ascii")}
    return {"body_b64": base64.b64encode(body).decode("ascii")}


def to_record(envelope: Envelope, received: dt.datetime | None = None) -> dict[str, Any]:
    """An envelope as a record (a dict ready for :func:`dump_record`)."""
    when = received or dt.datetime.now(dt.UTC)
    return {
        "ts": when.isoformat(timespec="microseconds"),
        "exchange": envelope.exchange,
        "key": envelope.routing_key,
        "headers": encode_header_value(dict(envelope.headers or {})),
        "properties": envelope.properties(),
        **body_fields(envelope.body, envelope.content_type),
    }


def dump_record(envelope: Envelope, received: dt.datetime | None = None) -> bytes:
    """One record line (without the newline)."""
    return orjson.dumps(to_record(envelope, received))


def _expect(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in record:
        raise RecordError(f"missing {name!r}")
    value = record[name]
    if not isinstance(value, kind):
        raise RecordError(f"{name!r} must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def parse_record(record: Mapping[str, Any]) -> Record:
    """A record dict back into a :class:`Record` (raises :class:`RecordError`)."""
    from vincent_core.wire.envelope import Envelope

    if not isinstance(record, Mapping):
        raise RecordError(f"a record is a JSON object, not {type(record).__name__}")
    ts = None
    if "ts" in record:
        try:
            ts = dt.datetime.fromisoformat(_expect(record, "ts", str))
        except ValueError as exc:
            raise RecordError(f"bad 'ts': {exc}") from None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.UTC)
    exchange = _expect(record, "exchange", str)
    key = _expect(record, "key", str)
    headers = decode_header_value(_expect(record, "headers", dict))
    properties = dict(_expect(record, "properties", dict))
    for name, value in properties.items():
        kind = int if name in _INT_PROPERTIES else str
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RecordError(f"property {name!r} must be {kind.__name__}, not {value!r}")
    if "body_b64" in record:
        # The exact bytes win over the readable value (JSON spaced unlike vincent's).
        try:
            body = base64.b64decode(_expect(record, "body_b64", str), validate=True)
        except binascii.Error as exc:
            raise RecordError(f"bad 'body_b64': {exc}") from None
    elif "body" in record:
        body = orjson.dumps(record["body"])
    else:
        raise RecordError("missing 'body' (or 'body_b64')")
    try:
        envelope = Envelope.from_properties(exchange, key, body, properties, headers)
    except (TypeError, ValueError) as exc:
        raise RecordError(str(exc)) from None
    return Record(ts, envelope)


def read_records(lines: Iterable[bytes | str], source: str) -> list[Record]:
    """Every record of a file's lines; blank lines are skipped. Errors name the line."""
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CommandError(f"{source}:{number}: not JSON: {exc.msg}") from None
        try:
            records.append(parse_record(data))
        except RecordError as exc:
            raise CommandError(f"{source}:{number}: not a record: {exc}") from None
    return records
