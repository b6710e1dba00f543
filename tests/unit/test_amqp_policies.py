"""The AMQP transport's pure parts: backoff, nack counting, error readings, properties."""

from __future__ import annotations

import aiormq
import pytest

from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    PublishFailed,
)
from vincent_core.transport.amqp.policies import BACKOFF, NackCounter, backoff, remaining
from vincent_core.transport.amqp.properties import to_envelope, to_properties
from vincent_core.transport.amqp.translate import connect_failure, publish_failure, reply_code
from vincent_core.wire.envelope import build_call


def test_backoff_grows_then_stays_at_its_last_step() -> None:
    assert [backoff(n) for n in range(len(BACKOFF))] == list(BACKOFF)
    assert backoff(100) == BACKOFF[-1]
    assert backoff(-1) == BACKOFF[0]


def test_remaining_is_never_negative() -> None:
    assert remaining(None, 5.0) is None
    assert remaining(10.0, 4.0) == 6.0
    assert remaining(10.0, 12.0) == 0.0


def test_a_channel_is_replaced_after_three_nacks_in_a_row_only() -> None:
    counter = NackCounter()
    assert not counter.nacked() and not counter.nacked()
    counter.acked()
    assert not counter.nacked() and not counter.nacked()
    assert counter.nacked()
    counter.reset()
    assert counter.count == 0


URL = "amqp://bob:secret@rabbit.example:5672/shop"
MASKED = "amqp://bob:***@rabbit.example:5672/shop"


def test_a_refused_open_names_the_vhost_and_user() -> None:
    exc = aiormq.exceptions.InvalidFrameError(
        "Expected one of ['Connection.OpenOk'], got <Connection.Close object at 0x1>"
    )
    error = connect_failure(exc, URL, MASKED)
    assert type(error) is ConnectionFailed and error.reply_code == 530
    text = str(error)
    assert "'shop'" in text and "'bob'" in text and "secret" not in text


def test_a_refused_login_is_an_authentication_failure() -> None:
    exc = aiormq.exceptions.InvalidFrameError(
        "Expected one of ['Connection.Secure', 'Connection.Tune'], got <Connection.Close>"
    )
    error = connect_failure(exc, URL, MASKED)
    assert isinstance(error, AuthenticationFailed) and error.reply_code == 403


def test_socket_and_url_errors_when_connecting() -> None:
    refused = connect_failure(ConnectionRefusedError(111, "Connection refused"), URL, MASKED)
    assert type(refused) is ConnectionFailed and "Connection refused" in str(refused)
    assert isinstance(connect_failure(ValueError("bad port"), URL, MASKED), ConfigurationError)
    vhost_root = connect_failure(
        aiormq.exceptions.InvalidFrameError(
            "Expected one of ['Connection.OpenOk'], got <Connection.Close>"
        ),
        "amqp://localhost",
        "amqp://localhost",
    )
    assert "vhost '/'" in str(vhost_root) and "'guest'" in str(vhost_root)


def test_a_publish_over_the_brokers_size_is_publish_failed_with_its_code() -> None:
    exc = aiormq.exceptions.ChannelPreconditionFailed(
        "PRECONDITION_FAILED - message size 100011 is larger than configured max size 65536"
    )
    error = publish_failure(exc, "k", MASKED)
    assert isinstance(error, PublishFailed) and error.reply_code == 406
    assert "larger than configured max size" in str(error)


def test_other_publish_failures() -> None:
    missing = aiormq.exceptions.ChannelNotFoundEntity("NOT_FOUND - no exchange 'x'")
    assert isinstance(publish_failure(missing, "k", MASKED), ConfigurationError)
    lost = publish_failure(aiormq.exceptions.ConnectionChannelError("gone"), "k", MASKED)
    assert isinstance(lost, ConnectionLost)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (aiormq.exceptions.ChannelAccessRefused("ACCESS_REFUSED - no"), 403),
        (aiormq.exceptions.ConnectionClosed(320, "CONNECTION_FORCED"), 320),
        (RuntimeError("plain"), 0),
    ],
)
def test_reply_codes(exc: BaseException, code: int) -> None:
    assert reply_code(exc) == code


def test_properties_round_trip() -> None:
    envelope = build_call("x", "file.get", {"a": 1}, timeout=5, reply_to="r", headers={"h": 1})
    envelope.timestamp = 1_700_000_000
    back = to_envelope(to_properties(envelope), envelope.body, exchange="x", routing_key="file.get")
    assert back == envelope


async def test_a_future_aiormq_cancels_is_a_lost_connection_not_our_cancellation() -> None:
    import asyncio

    from vincent_core.transport.amqp.translate import translate_errors

    pending: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait() -> None:
        with translate_errors(MASKED, "declare"):
            await pending

    waiting = asyncio.ensure_future(wait())
    await asyncio.sleep(0)
    pending.cancel()  # as aiormq does to what is pending on a connection it gives up
    with pytest.raises(ConnectionLost, match="declare: connection to"):
        await waiting

    pending = asyncio.get_running_loop().create_future()
    cancelled = asyncio.ensure_future(wait())
    await asyncio.sleep(0)
    cancelled.cancel()  # the caller's own cancellation stays one
    with pytest.raises(asyncio.CancelledError):
        await cancelled
