"""The AMQP transport's pure parts: backoff, nack counting, error readings, properties."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from vincent_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ConnectionLost,
    NoRoute,
    PublishFailed,
)
from vincent_core.transport.amqp.exceptions import (
    ChannelClosed,
    ConnectionClosed,
    Nacked,
    Returned,
)
from vincent_core.transport.amqp.policies import BACKOFF, NackCounter, backoff, remaining
from vincent_core.transport.amqp.properties import to_envelope, to_properties
from vincent_core.transport.amqp.translate import (
    close_cause,
    closing_cause,
    connect_failure,
    publish_failure,
    reason,
    translate_errors,
)
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


# -- connect ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosed(530, "NOT_ALLOWED - vhost shop not found", 10, 40, stage="open"),
        ConnectionClosed(530, "NOT_ALLOWED - access to vhost 'shop' refused for user 'bob'"),
        ConnectionClosed(403, "ACCESS_REFUSED - no access", stage="open"),
    ],
)
def test_a_refused_open_names_the_vhost_and_user(exc: ConnectionClosed) -> None:
    error = connect_failure(exc, URL, MASKED)
    assert type(error) is ConnectionFailed and error.reply_code == 530
    assert error.url == MASKED
    text = str(error)
    assert "'shop'" in text and "'bob'" in text and MASKED in text
    assert "secret" not in text


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosed(403, "ACCESS_REFUSED - Login was refused", stage="login"),
        ConnectionClosed(403, "ACCESS_REFUSED - Login was refused"),
    ],
)
def test_a_refused_login_is_an_authentication_failure(exc: ConnectionClosed) -> None:
    error = connect_failure(exc, URL, MASKED)
    assert isinstance(error, AuthenticationFailed) and error.reply_code == 403
    assert isinstance(error, ConnectionFailed)  # exit 5 like every failed connect
    assert "'bob'" in str(error) and "secret" not in str(error)


@pytest.mark.parametrize("stage", ["login", "open"])
def test_a_socket_dropped_mid_handshake_is_no_refusal(stage: str) -> None:
    text = f"the broker closed the connection during the handshake ({stage})"
    error = connect_failure(ConnectionClosed(0, text, stage=stage), URL, MASKED)
    assert type(error) is ConnectionFailed and not error.reply_code
    assert "during the handshake" in str(error)


def test_a_vhost_and_user_the_url_does_not_name_are_the_defaults() -> None:
    error = connect_failure(
        ConnectionClosed(530, "NOT_ALLOWED", stage="open"), "amqp://localhost", "amqp://localhost"
    )
    assert "vhost '/'" in str(error) and "'guest'" in str(error)
    escaped = connect_failure(
        ConnectionClosed(530, "NOT_ALLOWED", stage="open"),
        "amqp://j%40ne:pw@h/a%2fb",
        "amqp://j%40ne:***@h/a%2fb",
    )
    assert "vhost 'a/b'" in str(escaped) and "'j@ne'" in str(escaped)


def test_another_close_during_connect_keeps_its_code() -> None:
    error = connect_failure(ConnectionClosed(320, "CONNECTION_FORCED - shutdown"), URL, MASKED)
    assert type(error) is ConnectionFailed and error.reply_code == 320
    assert "CONNECTION_FORCED - shutdown" in str(error)
    dropped = connect_failure(ConnectionClosed(0, "the connection was lost"), URL, MASKED)
    assert type(dropped) is ConnectionFailed and dropped.reply_code == 0


def test_socket_tls_and_url_errors_when_connecting() -> None:
    refused = connect_failure(ConnectionRefusedError(111, "Connection refused"), URL, MASKED)
    assert type(refused) is ConnectionFailed and "Connection refused" in str(refused)
    assert refused.url == MASKED
    unreachable = connect_failure(OSError("no route"), URL, MASKED)
    assert type(unreachable) is ConnectionFailed and "no route" in str(unreachable)
    tls = connect_failure(ssl.SSLCertVerificationError(1, "certificate verify failed"), URL, MASKED)
    assert type(tls) is ConnectionFailed and "TLS failed" in str(tls)
    assert "certificate verify failed" in str(tls)
    bad_url = connect_failure(ValueError("bad port"), URL, MASKED)
    assert isinstance(bad_url, ConfigurationError) and "bad port" in str(bad_url)
    assert MASKED in str(bad_url) and "secret" not in str(bad_url)
    other = connect_failure(RuntimeError("odd"), URL, MASKED)
    assert type(other) is ConnectionFailed and "odd" in str(other)


def test_a_vincent_error_when_connecting_is_kept() -> None:
    refused = ConfigurationError("no broker URL")
    assert connect_failure(refused, URL, MASKED) is refused


# -- publish ---------------------------------------------------------------------------


def test_a_returned_publish_is_no_route() -> None:
    error = publish_failure(Returned(312, "NO_ROUTE", "vincent", "nobody.home"), "k", MASKED)
    assert isinstance(error, NoRoute)
    assert (error.key, error.exchange) == ("nobody.home", "vincent")
    fallback = publish_failure(Returned(312, "NO_ROUTE", "", ""), "k", MASKED)
    assert isinstance(fallback, NoRoute) and fallback.key == "k"


def test_a_nacked_publish_is_publish_failed() -> None:
    error = publish_failure(Nacked(), "k", MASKED)
    assert type(error) is PublishFailed and "nacked" in str(error) and "'k'" in str(error)


def test_a_publish_over_the_brokers_size_is_publish_failed_with_its_code() -> None:
    exc = ChannelClosed(
        406, "PRECONDITION_FAILED - message size 100011 is larger than configured max size 65536"
    )
    error = publish_failure(exc, "k", MASKED)
    assert type(error) is PublishFailed and error.reply_code == 406
    assert "larger than configured max size" in str(error)


def test_a_publish_refused_for_access_is_publish_failed() -> None:
    exc = ChannelClosed(403, "ACCESS_REFUSED - write access to exchange 'x' refused")
    error = publish_failure(exc, "k", MASKED)
    assert type(error) is PublishFailed and error.reply_code == 403


@pytest.mark.parametrize(
    "exc",
    [
        ChannelClosed(406, "PRECONDITION_FAILED - invalid expiration 'soon'"),
        ChannelClosed(404, "NOT_FOUND - no exchange 'x' in vhost '/'"),
    ],
)
def test_a_publish_the_senders_configuration_broke_is_a_configuration_error(
    exc: ChannelClosed,
) -> None:
    error = publish_failure(exc, "k", MASKED)
    assert isinstance(error, ConfigurationError) and exc.reply_text in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosed(320, "CONNECTION_FORCED - broker forced connection closure"),
        ConnectionClosed(0, "the connection was lost"),
        ChannelClosed(504, "the channel is closed"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
)
def test_a_publish_that_lost_its_connection_is_connection_lost(exc: BaseException) -> None:
    error = publish_failure(exc, "k", MASKED)
    assert isinstance(error, ConnectionLost) and MASKED in str(error)


def test_a_vincent_error_when_publishing_is_kept() -> None:
    no_route = NoRoute("k")
    assert publish_failure(no_route, "k", MASKED) is no_route


# -- everything else -------------------------------------------------------------------


async def _raising(exc: BaseException) -> None:
    with translate_errors(MASKED, "declare"):
        raise exc


@pytest.mark.parametrize(
    ("exc", "expected", "words"),
    [
        (
            ChannelClosed(406, "PRECONDITION_FAILED - inequivalent arg"),
            ConfigurationError,
            "inequivalent",
        ),
        (ChannelClosed(404, "NOT_FOUND - no queue 'q'"), ConfigurationError, "no queue"),
        (ChannelClosed(405, "RESOURCE_LOCKED - exclusive"), ConfigurationError, "exclusive"),
        (ChannelClosed(403, "ACCESS_REFUSED - configure"), ConfigurationError, "access refused"),
        (ChannelClosed(504, "closed"), ConnectionLost, "connection to"),
        (ConnectionClosed(320, "CONNECTION_FORCED"), ConnectionLost, "CONNECTION_FORCED"),
        (ConnectionClosed(0, "missed heartbeats"), ConnectionLost, "missed heartbeats"),
        (BrokenPipeError(32, "Broken pipe"), ConnectionLost, "Broken pipe"),
        (Returned(312, "NO_ROUTE", "x", "k"), NoRoute, "k"),
        (Nacked(), PublishFailed, "nacked"),
    ],
)
async def test_translate_errors(exc: BaseException, expected: type[Exception], words: str) -> None:
    with pytest.raises(expected) as caught:
        await _raising(exc)
    assert words in str(caught.value)
    assert caught.value.__cause__ is None or caught.value.__suppress_context__
    if expected is ConnectionLost:
        assert str(caught.value).startswith("declare: connection to " + MASKED)


async def test_translate_errors_leaves_other_errors_and_cancellation_alone() -> None:
    with pytest.raises(RuntimeError, match="a bug"):
        await _raising(RuntimeError("a bug"))
    no_route = NoRoute("k")
    with pytest.raises(NoRoute) as caught:
        await _raising(no_route)
    assert caught.value is no_route

    pending: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait() -> None:
        with translate_errors(MASKED, "declare"):
            await pending

    waiting = asyncio.ensure_future(wait())
    await asyncio.sleep(0)
    waiting.cancel()  # the caller's own cancellation stays one
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_the_words_of_a_close() -> None:
    assert reason(ChannelClosed(404, "NOT_FOUND - no queue 'q'")) == "NOT_FOUND - no queue 'q'"
    assert reason(Nacked()) == "the broker nacked the message"
    assert reason(ConnectionRefusedError(111, "Connection refused")) == "Connection refused"
    assert reason(TimeoutError()) == "TimeoutError"
    assert close_cause(None) == "closed"
    assert close_cause(ConnectionClosed(320, "CONNECTION_FORCED")) == "CONNECTION_FORCED"
    loop = asyncio.get_running_loop()
    ours: asyncio.Future[None] = loop.create_future()
    ours.set_result(None)
    theirs: asyncio.Future[None] = loop.create_future()
    theirs.set_exception(ChannelClosed(406, "PRECONDITION_FAILED - x"))
    cancelled: asyncio.Future[None] = loop.create_future()
    cancelled.cancel()
    assert closing_cause(ours) == "closed"
    assert closing_cause(theirs) == "PRECONDITION_FAILED - x"
    assert closing_cause(cancelled) == "closed"


def test_amqp_errors_read_as_their_text_and_code() -> None:
    assert str(ChannelClosed(404, "NOT_FOUND - x")) == "NOT_FOUND - x (404)"
    assert str(ConnectionClosed(0, "lost")) == "lost"
    closed = ConnectionClosed(530, "NOT_ALLOWED", 10, 40, stage="open")
    assert (closed.reply_code, closed.class_id, closed.method_id, closed.stage) == (
        530,
        10,
        40,
        "open",
    )
    returned = Returned(312, "NO_ROUTE", "x", "k")
    assert (returned.exchange, returned.routing_key) == ("x", "k")


def test_properties_round_trip() -> None:
    envelope = build_call("x", "file.get", {"a": 1}, timeout=5, reply_to="r", headers={"h": 1})
    envelope.timestamp = 1_700_000_000
    back = to_envelope(to_properties(envelope), envelope.body, exchange="x", routing_key="file.get")
    assert back == envelope
