"""The hot-path frame encoder must produce exactly what pamqp would."""

from __future__ import annotations

import pytest
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.frame import marshal
from pamqp.header import ContentHeader

from vincent_core.errors import EncodeError
from vincent_core.transport.amqp.properties import to_properties
from vincent_core.transport.frames import ack_frame, publish_frames, reject_frame
from vincent_core.wire.envelope import Envelope, build_call, build_cast


def _pamqp(channel: int, envelope: Envelope, mandatory: bool, max_body: int) -> bytes:
    frames: list[bytes] = [
        marshal(
            spec.Basic.Publish(
                exchange=envelope.exchange, routing_key=envelope.routing_key, mandatory=mandatory
            ),
            channel,
        ),
        marshal(ContentHeader(0, len(envelope.body), to_properties(envelope)), channel),
    ]
    body = envelope.body
    for start in range(0, len(body), max_body):
        frames.append(marshal(ContentBody(body[start : start + max_body]), channel))
    return b"".join(frames)


ENVELOPES = [
    build_cast("vincent", "file.encrypt", {"key_id": 1234}),
    build_cast("vincent", "file.encrypt", {"a": "é" * 40}, ttl=5, headers={"x-origin": "ops"}),
    build_call(
        "",
        "file.get",
        b"\x00\x01" * 300,
        timeout=3,
        reply_to="amq.rabbitmq.reply-to",
        headers={"x-vincent-trace": {"id": "ab" * 16, "chain": ["a", "b"]}, "n": 1},
    ),
    Envelope(
        "x",
        "k",
        b"",
        content_encoding="gzip",
        priority=5,
        type="t",
        user_id="guest",
        app_id="app",
        timestamp=1_795_847_662,
    ),
]


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("mandatory", [True, False])
def test_publish_frames_match_pamqp(envelope: Envelope, mandatory: bool) -> None:
    for max_body in (131_064, 100):
        expected = _pamqp(3, envelope, mandatory, max_body)
        assert publish_frames(3, envelope, mandatory=mandatory, max_body_frame=max_body) == expected


def test_ack_and_reject_frames_match_pamqp() -> None:
    assert ack_frame(2, 7) == marshal(spec.Basic.Ack(delivery_tag=7), 2)
    assert ack_frame(2, 2**40, multiple=True) == marshal(
        spec.Basic.Ack(delivery_tag=2**40, multiple=True), 2
    )
    assert reject_frame(9, 5, requeue=True) == marshal(
        spec.Basic.Reject(delivery_tag=5, requeue=True), 9
    )
    assert reject_frame(9, 5, requeue=False) == marshal(
        spec.Basic.Reject(delivery_tag=5, requeue=False), 9
    )


def test_a_field_over_255_bytes_is_refused() -> None:
    envelope = build_cast("vincent", "k", {})
    envelope.reply_to = "r" * 256
    with pytest.raises(ValueError, match="reply_to"):
        publish_frames(1, envelope, mandatory=False, max_body_frame=1000)


@pytest.mark.parametrize(
    "headers",
    [{"tuple": (1, 2)}, {"object": object()}, {1: "key"}, {"huge": 2**70}, {"k" * 256: 1}],
    ids=["tuple", "object", "int-key", "int-beyond-64-bits", "name-over-255-bytes"],
)
def test_headers_amqp_cannot_carry_are_an_encode_error(headers: dict[object, object]) -> None:
    envelope = Envelope("x", "k", b"{}", headers=headers)  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match="cannot travel in an AMQP field table"):
        publish_frames(1, envelope, mandatory=False, max_body_frame=131064)
