"""The record format: envelope → JSON line → envelope, exactly."""

from __future__ import annotations

import base64
import datetime as dt
import decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vincent_cli.exit_codes import CommandError
from vincent_cli.records import (
    RecordError,
    decode_header_value,
    dump_record,
    encode_header_value,
    parse_record,
    read_records,
    to_record,
)
from vincent_core.wire.envelope import Envelope, build_call, build_cast

WHEN = dt.datetime(2026, 11, 28, 6, 20, 37, 123456, tzinfo=dt.UTC)


def roundtrip(envelope: Envelope) -> Envelope:
    record = parse_record(orjson.loads(dump_record(envelope, WHEN)))
    assert record.ts == WHEN
    return record.envelope


def test_a_cast_as_a_record() -> None:
    envelope = build_cast("vincent", "file.encrypt", {"key_id": 1234})
    record = to_record(envelope, WHEN)
    assert list(record) == ["ts", "exchange", "key", "headers", "properties", "body"]
    assert record["ts"] == "2026-11-28T06:20:37.123456+00:00"
    assert record["exchange"] == "vincent"
    assert record["key"] == "file.encrypt"
    assert record["headers"] == {}
    assert record["body"] == {"key_id": 1234}
    properties = record["properties"]
    assert properties["content_type"] == "application/json"
    assert properties["delivery_mode"] == 2
    assert set(properties) == {"content_type", "delivery_mode", "message_id", "timestamp"}


def test_a_call_keeps_its_reply_properties() -> None:
    envelope = build_call("vincent", "file.get", {}, timeout=5, reply_to="amq.rabbitmq.reply-to")
    back = roundtrip(envelope)
    assert back == envelope


def test_binary_body_is_base64() -> None:
    envelope = build_cast("vincent", "blob", b"\x00\x01\xff")
    record = to_record(envelope, WHEN)
    assert "body" not in record
    assert base64.b64decode(record["body_b64"]) == b"\x00\x01\xff"
    assert roundtrip(envelope).body == b"\x00\x01\xff"


def test_json_that_would_not_reencode_identically_has_body_and_exact_bytes() -> None:
    pretty = b'{ "a" : 1.0e3 }'
    envelope = Envelope("x", "k", pretty, content_type="application/json")
    record = to_record(envelope, WHEN)
    assert record["body"] == {"a": 1000.0}
    assert base64.b64decode(record["body_b64"]) == pretty
    assert roundtrip(envelope).body == pretty


def test_json_body_without_content_type() -> None:
    envelope = Envelope("x", "k", b'{"a":1}')
    assert to_record(envelope, WHEN)["body"] == {"a": 1}
    assert roundtrip(envelope) == envelope


def test_json_looking_binary_stays_binary() -> None:
    envelope = Envelope("x", "k", b"123", content_type="application/octet-stream")
    assert "body_b64" in to_record(envelope, WHEN)


def test_headers_of_every_amqp_type_roundtrip() -> None:
    headers = {
        "s": "text",
        "i": -5,
        "big": 2**40,
        "f": 1.5,
        "b": True,
        "none": None,
        "bytes": bytearray(b"\x00\xff"),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "money": decimal.Decimal("1.50"),
        "list": [1, "a", bytearray(b"z")],
        "table": {"id": "abc", "chain": ["a.b"]},
        "tricky": {"$bytes": "not a tag, a real key"},
    }
    envelope = Envelope("x", "k", b"{}", headers=headers, content_type="application/json")
    line = dump_record(envelope, WHEN)
    assert orjson.loads(line)["headers"]["bytes"] == {"$bytes": "AP8="}
    assert roundtrip(envelope).headers == headers


def test_bytes_headers_come_back_as_bytearray() -> None:
    assert decode_header_value(encode_header_value(b"\x01")) == bytearray(b"\x01")


def test_record_without_body_or_with_both() -> None:
    record = to_record(build_cast("x", "k", {}), WHEN)
    del record["body"]
    with pytest.raises(RecordError, match="missing 'body'"):
        parse_record(record)
    both = parse_record({**record, "body": 1, "body_b64": "eyJuIjogMX0="})
    assert both.envelope.body == b'{"n": 1}'  # the exact bytes win


def test_record_without_ts() -> None:
    record = to_record(build_cast("x", "k", {}), WHEN)
    del record["ts"]
    assert parse_record(record).ts is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ts": "yesterday"}, "bad 'ts'"),
        ({"key": 3}, "'key' must be str"),
        ({"headers": []}, "'headers' must be dict"),
        ({"properties": {"colour": "red"}}, "unknown AMQP properties: colour"),
        ({"properties": {"priority": "high"}}, "property 'priority' must be int"),
        ({"body_b64": "!!!"}, "bad 'body_b64'"),
    ],
)
def test_bad_records_say_why(change: dict[str, object], message: str) -> None:
    record = to_record(build_cast("x", "k", b"\x00"), WHEN)
    record.update(change)
    with pytest.raises(RecordError, match=message):
        parse_record(record)


def test_unknown_keys_are_ignored() -> None:
    record = to_record(build_cast("x", "k", {"a": 1}), WHEN)
    assert parse_record({**record, "dead": {"reason": "error"}}).envelope.body == b'{"a":1}'


def test_read_records_names_the_line() -> None:
    good = dump_record(build_cast("x", "k", {}), WHEN)
    assert len(read_records([good, b"\n", good], "f.jsonl")) == 2
    with pytest.raises(CommandError, match=r"f.jsonl:2: not JSON"):
        read_records([good, b"{oops"], "f.jsonl")
    with pytest.raises(CommandError, match=r"f.jsonl:1: not a record: missing 'key'"):
        read_records([b'{"ts": "2026-01-01T00:00:00+00:00", "exchange": "x"}'], "f.jsonl")


def test_naive_ts_is_utc() -> None:
    record = to_record(build_cast("x", "k", {}), WHEN)
    record["ts"] = "2026-11-28T06:20:37"
    ts = parse_record(record).ts
    assert ts is not None and ts.tzinfo is dt.UTC


header_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text()
    | st.binary().map(bytearray),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(body=st.binary(max_size=64), headers=st.dictionaries(st.text(max_size=8), header_values))
def test_any_body_and_headers_roundtrip(body: bytes, headers: dict[str, object]) -> None:
    envelope = Envelope("x", "k", body, headers=headers, content_type="application/json")
    back = roundtrip(envelope)
    assert back.body == body
    assert back.headers == headers
