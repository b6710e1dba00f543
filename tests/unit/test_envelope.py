from __future__ import annotations

import time

import pytest

from vincent_core.wire.deadlines import DEADLINE_HEADER, now_ms
from vincent_core.wire.envelope import PERSISTENT, Envelope, build_call, build_cast


def test_cast_envelope_follows_the_protocol() -> None:
    envelope = build_cast("vincent", "file.encrypt", {"key_id": 1}, headers={"h": "v"})
    assert envelope.exchange == "vincent"
    assert envelope.routing_key == "file.encrypt"
    assert envelope.body == b'{"key_id":1}'
    assert envelope.content_type == "application/json"
    assert envelope.delivery_mode == PERSISTENT
    assert envelope.message_id and len(envelope.message_id) == 32
    assert envelope.timestamp is not None and abs(envelope.timestamp - time.time()) < 5
    assert envelope.expiration is None
    assert envelope.headers == {"h": "v"}
    assert envelope.reply_to is None


def test_cast_ttl_sets_expiration_and_deadline() -> None:
    envelope = build_cast("x", "k", {}, ttl=5, now=1_000_000)
    assert envelope.expiration == "5000"
    assert envelope.headers[DEADLINE_HEADER] == 1_005_000
    assert isinstance(envelope.headers[DEADLINE_HEADER], int)


def test_call_expiration_equals_timeout_rounded_up() -> None:
    envelope = build_call("x", "k", {}, timeout=2.0001, reply_to="amq.rabbitmq.reply-to")
    assert envelope.expiration == "2001"
    assert envelope.reply_to == "amq.rabbitmq.reply-to"
    assert envelope.correlation_id
    deadline = envelope.headers[DEADLINE_HEADER]
    assert isinstance(deadline, int)
    assert 0 < deadline - now_ms() <= 2001


def test_nested_call_never_gets_more_time_than_its_caller() -> None:
    inherited = now_ms() + 1_000
    envelope = build_call("x", "k", {}, timeout=10, reply_to="r", deadline=inherited)
    assert envelope.headers[DEADLINE_HEADER] == inherited
    assert int(envelope.expiration or "0") <= 1_000


def test_call_ttl_shorter_than_timeout_wins() -> None:
    envelope = build_call("x", "k", {}, timeout=10, ttl=1, reply_to="r")
    assert envelope.expiration == "1000"


def test_bytes_body_is_binary() -> None:
    envelope = build_cast("x", "k", b"\x00raw")
    assert envelope.body == b"\x00raw"
    assert envelope.content_type == "application/octet-stream"


def test_properties_and_copies() -> None:
    envelope = build_cast("x", "k", {"a": 1})
    props = envelope.properties()
    assert set(props) == {"content_type", "delivery_mode", "message_id", "timestamp"}
    copy = envelope.with_changes(routing_key="other")
    copy.headers["new"] = 1
    assert "new" not in envelope.headers
    rebuilt = Envelope.from_properties("x", "k", envelope.body, props, {"h": 1})
    assert rebuilt.properties() == props
    with pytest.raises(ValueError, match="unknown AMQP properties: bogus"):
        Envelope.from_properties("x", "k", b"", {"bogus": 1})


def test_new_ids_are_uuid4_hex() -> None:
    import uuid

    from vincent_core.wire.envelope import new_id

    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and parsed.hex == value
