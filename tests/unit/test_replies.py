from __future__ import annotations

import pytest

from vincent_core.errors import Rejected, RemoteError
from vincent_core.wire.envelope import Envelope, build_call
from vincent_core.wire.replies import (
    REJECTED_TYPE,
    STATUS_HEADER,
    build_error_reply,
    build_ok_reply,
    error_type_name,
    read_reply,
)


class DiskFull(Exception):
    pass


def request() -> Envelope:
    return build_call("x", "file.put", {}, timeout=5, reply_to="amq.rabbitmq.reply-to.abc")


def test_ok_reply_goes_to_reply_to_on_the_default_exchange() -> None:
    req = request()
    reply = build_ok_reply(req, {"done": True})
    assert reply.exchange == ""
    assert reply.routing_key == "amq.rabbitmq.reply-to.abc"
    assert reply.correlation_id == req.correlation_id
    assert reply.headers == {STATUS_HEADER: "ok"}
    assert read_reply(reply) == {"done": True}


def test_none_is_null_and_bytes_stay_bytes() -> None:
    assert build_ok_reply(request(), None).body == b"null"
    reply = build_ok_reply(request(), b"\x01\x02")
    assert reply.content_type == "application/octet-stream"
    assert read_reply(reply) == b"\x01\x02"


def test_error_type_names() -> None:
    assert error_type_name(ValueError("x")) == "ValueError"
    assert error_type_name(DiskFull()) == f"{__name__}.DiskFull"


def test_error_reply_raises_remote_error_with_traceback() -> None:
    try:
        raise DiskFull("no space left")
    except DiskFull as exc:
        reply = build_error_reply(request(), exc)
    assert reply.headers[STATUS_HEADER] == "error"
    with pytest.raises(RemoteError) as info:
        read_reply(reply, "file.put")
    error = info.value
    assert error.type == f"{__name__}.DiskFull"
    assert error.message == "no space left"
    assert "raise DiskFull" in error.traceback
    assert "Remote traceback" in str(error)
    assert error.key == "file.put"


def test_rejected_reply_raises_rejected_not_remote_error() -> None:
    reply = build_error_reply(request(), type=REJECTED_TYPE, message="busy", traceback="")
    with pytest.raises(Rejected, match="busy") as info:
        read_reply(reply, "file.put")
    assert not isinstance(info.value, RemoteError)


def test_foreign_reply_without_status_is_a_success() -> None:
    reply = Envelope("", "q", b"42", correlation_id="c")
    assert read_reply(reply) == 42
    assert read_reply(Envelope("", "q", b"not json")) == b"not json"
