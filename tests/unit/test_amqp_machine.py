"""The sans-io AMQP connection (:class:`Machine`) against a broker played by pamqp.

Every byte the "broker" sends here is encoded by pamqp, and everything the machine
queues in :attr:`Machine.outgoing` is decoded by pamqp: the machine's own frame reader
is checked against an independent codec, not against itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from pamqp import commands as spec
from pamqp.base import Frame as PamqpMethod
from pamqp.body import ContentBody
from pamqp.frame import marshal, unmarshal
from pamqp.header import ContentHeader, ProtocolHeader
from pamqp.heartbeat import Heartbeat

from vincent_core.transport.amqp.machine import (
    CAPABILITIES,
    PROTOCOL_HEADER,
    Blocked,
    ChannelClosed,
    Closed,
    Confirm,
    Credentials,
    Event,
    Machine,
    Message,
    MethodReceived,
    Opened,
    ProtocolError,
    Unblocked,
)

DELIVER = (60, 60)
GET_OK = (60, 71)
RETURN = (60, 50)


# -- the broker's side: pamqp encodes, pamqp decodes -------------------------------------


def frame(channel: int, method: PamqpMethod) -> bytes:
    return marshal(method, channel)


def content(
    channel: int,
    body: bytes,
    properties: spec.Basic.Properties | None = None,
    *,
    frame_size: int | None = None,
) -> bytes:
    """A content header and its body frames (``frame_size`` bytes of body each)."""
    data = marshal(ContentHeader(0, len(body), properties or spec.Basic.Properties()), channel)
    size = frame_size or max(len(body), 1)
    for start in range(0, len(body), size):
        data += marshal(ContentBody(body[start : start + size]), channel)
    return data


def deliver(
    channel: int,
    tag: int,
    body: bytes,
    *,
    consumer_tag: str = "ctag",
    properties: spec.Basic.Properties | None = None,
    frame_size: int | None = None,
    redelivered: bool = False,
) -> bytes:
    method = spec.Basic.Deliver(
        consumer_tag=consumer_tag,
        delivery_tag=tag,
        redelivered=redelivered,
        exchange="ex",
        routing_key="rk",
    )
    return frame(channel, method) + content(channel, body, properties, frame_size=frame_size)


Shape = tuple[int, str, dict[str, Any]]


def shape(channel: int, value: Any) -> Shape:
    """A frame as something comparable (pamqp's methods have no ``__eq__``)."""
    fields = dict(value) if isinstance(value, PamqpMethod) else {}
    return channel, type(value).__qualname__, fields


def raw_frames(data: bytes) -> list[tuple[int, Any]]:
    frames: list[tuple[int, Any]] = []
    while data:
        size, channel, value = unmarshal(data)
        frames.append((channel, value))
        data = data[size:]
    return frames


def decoded(data: bytes) -> list[Shape]:
    return [shape(channel, value) for channel, value in raw_frames(data)]


def sent_raw(machine: Machine) -> list[tuple[int, Any]]:
    """Decode and clear what the machine queued for the broker."""
    data = bytes(machine.outgoing)
    machine.outgoing.clear()
    return raw_frames(data)


def sent(machine: Machine) -> list[Shape]:
    return [shape(channel, value) for channel, value in sent_raw(machine)]


def method_shape(event: Event) -> Shape:
    """A :class:`MethodReceived` as a comparable shape."""
    assert isinstance(event, MethodReceived), event
    return shape(event.channel, event.method)


START = spec.Connection.Start(
    server_properties={"product": "RabbitMQ", "version": "3.10.0"},
    mechanisms="AMQPLAIN PLAIN EXTERNAL",
)


def opened(
    credentials: Credentials | None = None,
    *,
    channel_max: int = 2047,
    frame_max: int = 131072,
    heartbeat: int = 60,
) -> Machine:
    """A machine past its handshake, with nothing left to send."""
    machine = Machine(credentials or Credentials())
    machine.receive(frame(0, START))
    machine.receive(
        frame(
            0,
            spec.Connection.Tune(channel_max=channel_max, frame_max=frame_max, heartbeat=heartbeat),
        )
    )
    events = machine.receive(frame(0, spec.Connection.OpenOk()))
    assert [type(e) for e in events] == [Opened]
    machine.outgoing.clear()
    return machine


def open_channel(machine: Machine) -> int:
    number, data = machine.open_channel()
    assert decoded(data) == [shape(number, spec.Channel.Open())]
    events = machine.receive(frame(number, spec.Channel.OpenOk()))
    assert [type(e) for e in events] == [MethodReceived]
    return number


def messages(events: list[Event]) -> list[Message]:
    assert all(isinstance(e, Message) for e in events), events
    return [e for e in events if isinstance(e, Message)]


# -- the handshake -----------------------------------------------------------------------


def test_the_protocol_header_is_the_first_thing_to_send() -> None:
    machine = Machine(Credentials())
    assert bytes(machine.outgoing) == PROTOCOL_HEADER == b"AMQP\x00\x00\x09\x01"
    assert machine.state == "start" and not machine.usable
    size, _, header = unmarshal(bytes(machine.outgoing))
    assert size == 8 and isinstance(header, ProtocolHeader)
    assert (header.major_version, header.minor_version, header.revision) == (0, 9, 1)


def test_start_is_answered_with_a_plain_login_and_the_client_capabilities() -> None:
    credentials = Credentials(
        user="bob", password="s3cret", client_properties={"product": "vincent"}
    )
    machine = Machine(credentials)
    machine.outgoing.clear()
    assert machine.receive(frame(0, START)) == []
    [(channel, start_ok)] = sent_raw(machine)
    assert channel == 0 and isinstance(start_ok, spec.Connection.StartOk)
    assert start_ok.mechanism == "PLAIN"
    assert start_ok.response == "\0bob\0s3cret"
    properties = start_ok.client_properties
    assert properties["product"] == "vincent"
    capabilities = properties["capabilities"]
    assert isinstance(capabilities, dict)
    for name in (
        "connection.blocked",
        "consumer_cancel_notify",
        "authentication_failure_close",
        "publisher_confirms",
        "basic.nack",
    ):
        assert capabilities[name] is True, name
    assert capabilities == CAPABILITIES
    assert machine.state == "tune"
    assert credentials.client_properties == {"product": "vincent"}  # not changed in place


def test_start_is_answered_with_an_external_login() -> None:
    machine = Machine(Credentials(mechanism="EXTERNAL"))
    machine.outgoing.clear()
    machine.receive(frame(0, START))
    [(_, start_ok)] = sent_raw(machine)
    assert start_ok.mechanism == "EXTERNAL" and start_ok.response == ""


def test_a_mechanism_the_broker_does_not_offer_is_a_protocol_error() -> None:
    machine = Machine(Credentials(mechanism="EXTERNAL"))
    with pytest.raises(ProtocolError, match=r"EXTERNAL.*AMQPLAIN, PLAIN"):
        machine.receive(frame(0, spec.Connection.Start(mechanisms="AMQPLAIN PLAIN")))


def test_a_sasl_challenge_is_a_protocol_error() -> None:
    machine = Machine(Credentials())
    machine.receive(frame(0, START))
    with pytest.raises(ProtocolError, match="SASL"):
        machine.receive(frame(0, spec.Connection.Secure(challenge="more?")))


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        # (channel_max, frame_max, heartbeat) we ask / the broker proposes / tune-ok says
        ((0, 0, None), (2047, 131072, 60), (2047, 131072, 60)),
        ((100, 4096, 10), (2047, 131072, 60), (100, 4096, 10)),
        ((4000, 1_000_000, 120), (2047, 131072, 60), (2047, 131072, 60)),
        ((0, 0, 30), (0, 0, 0), (65535, 131072, 30)),
        ((0, 0, None), (0, 0, 0), (65535, 131072, 0)),
    ],
)
def test_tune_is_answered_with_the_negotiated_limits_then_open(
    ours: tuple[int, int, int | None],
    theirs: tuple[int, int, int],
    expected: tuple[int, int, int],
) -> None:
    channel_max, frame_max, heartbeat = ours
    machine = Machine(
        Credentials(vhost="shop", channel_max=channel_max, frame_max=frame_max, heartbeat=heartbeat)
    )
    machine.receive(frame(0, START))
    machine.outgoing.clear()
    proposal = spec.Connection.Tune(channel_max=theirs[0], frame_max=theirs[1], heartbeat=theirs[2])
    assert machine.receive(frame(0, proposal)) == []
    [(_, tune_ok), (_, open_)] = sent_raw(machine)
    assert isinstance(tune_ok, spec.Connection.TuneOk)
    assert (tune_ok.channel_max, tune_ok.frame_max, tune_ok.heartbeat) == expected
    assert isinstance(open_, spec.Connection.Open) and open_.virtual_host == "shop"
    assert machine.state == "open"
    [event] = machine.receive(frame(0, spec.Connection.OpenOk()))
    assert event == Opened(
        *expected, server_properties={"product": "RabbitMQ", "version": "3.10.0"}
    )
    assert machine.usable and machine.outgoing == b""
    assert (machine.channel_max, machine.frame_max, machine.heartbeat) == expected


def test_heartbeat_zero_turns_heartbeats_off() -> None:
    machine = Machine(Credentials(heartbeat=0))
    machine.receive(frame(0, START))
    machine.outgoing.clear()
    machine.receive(
        frame(0, spec.Connection.Tune(channel_max=2047, frame_max=131072, heartbeat=60))
    )
    [(_, tune_ok), _] = sent_raw(machine)
    assert tune_ok.heartbeat == 0
    assert machine.heartbeat == 0


def test_the_whole_handshake_fed_byte_by_byte() -> None:
    machine = Machine(Credentials())
    broker = (
        frame(0, START)
        + frame(0, spec.Connection.Tune(channel_max=10, frame_max=8192, heartbeat=5))
        + frame(0, spec.Connection.OpenOk())
    )
    events: list[Event] = []
    for byte in broker:
        events += machine.receive(bytes([byte]))
    assert events == [Opened(10, 8192, 5, {"product": "RabbitMQ", "version": "3.10.0"})]
    kinds = [type(value) for _, value in sent_raw(machine)]
    assert kinds == [
        ProtocolHeader,
        spec.Connection.StartOk,
        spec.Connection.TuneOk,
        spec.Connection.Open,
    ]


@pytest.mark.parametrize(
    ("out_of_turn", "feed_first"),
    [
        (spec.Connection.Tune(), []),
        (spec.Connection.OpenOk(), []),
        (spec.Connection.OpenOk(), [START]),
        (START, [START]),
    ],
)
def test_handshake_methods_out_of_turn_are_protocol_errors(
    out_of_turn: PamqpMethod, feed_first: list[PamqpMethod]
) -> None:
    machine = Machine(Credentials())
    for method in feed_first:
        machine.receive(frame(0, method))
    with pytest.raises(ProtocolError, match="out of turn"):
        machine.receive(frame(0, out_of_turn))


def test_a_refused_login_closes_with_stage_login_and_answers_close_ok() -> None:
    machine = Machine(Credentials(user="bob", password="wrong"))
    machine.receive(frame(0, START))
    machine.outgoing.clear()
    refusal = spec.Connection.Close(
        reply_code=403,
        reply_text="ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN",
        class_id=0,
        method_id=0,
    )
    [event] = machine.receive(frame(0, refusal))
    assert isinstance(event, Closed)
    assert (event.reply_code, event.stage, event.by_broker) == (403, "login", True)
    assert event.reply_text.startswith("ACCESS_REFUSED")
    assert sent(machine) == [shape(0, spec.Connection.CloseOk())]
    assert machine.state == "closed" and not machine.usable


def test_a_refused_vhost_closes_with_stage_open() -> None:
    machine = Machine(Credentials(vhost="novhost"))
    machine.receive(frame(0, START))
    machine.receive(frame(0, spec.Connection.Tune(channel_max=0, frame_max=0, heartbeat=0)))
    machine.outgoing.clear()
    refusal = spec.Connection.Close(
        reply_code=530,
        reply_text="NOT_ALLOWED - vhost novhost not found",
        class_id=10,
        method_id=40,
    )
    [event] = machine.receive(frame(0, refusal))
    assert event == Closed(530, "NOT_ALLOWED - vhost novhost not found", 10, 40, stage="open")
    assert sent(machine) == [shape(0, spec.Connection.CloseOk())]


def test_a_server_that_answers_with_its_protocol_header_is_not_amqp_0_9_1() -> None:
    machine = Machine(Credentials())
    with pytest.raises(ProtocolError, match="protocol header"):
        machine.receive(b"AMQP\x01\x01\x00\x0a")


def test_a_protocol_header_split_in_two_reads_is_still_recognised() -> None:
    machine = Machine(Credentials())
    assert machine.receive(b"AMQP\x00") == []
    with pytest.raises(ProtocolError, match="does not speak AMQP 0-9-1"):
        machine.receive(b"\x00\x09\x01")


# -- deliveries ----------------------------------------------------------------------


PROPERTIES = spec.Basic.Properties(
    content_type="application/json",
    content_encoding="utf-8",
    delivery_mode=2,
    priority=3,
    correlation_id="corr-1",
    reply_to="amq.rabbitmq.reply-to.abc",
    expiration="60000",
    message_id="m-1",
    timestamp=dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC),
    message_type="file.get",
    user_id="guest",
    app_id="billing",
    headers={"x-vincent-kind": "call"},
)


def test_a_delivery_becomes_one_message_with_its_fields_and_properties() -> None:
    machine = opened()
    channel = open_channel(machine)
    [message] = messages(
        machine.receive(deliver(channel, 7, b'{"a": 1}', properties=PROPERTIES, redelivered=True))
    )
    assert message.kind == DELIVER and message.channel == channel
    assert (message.consumer_tag, message.delivery_tag, message.redelivered) == ("ctag", 7, True)
    assert (message.exchange, message.routing_key) == ("ex", "rk")
    assert message.body == b'{"a": 1}'
    assert message.headers == {"x-vincent-kind": "call"}
    assert message.properties == {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "priority": 3,
        "correlation_id": "corr-1",
        "reply_to": "amq.rabbitmq.reply-to.abc",
        "expiration": "60000",
        "message_id": "m-1",
        "timestamp": int(dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC).timestamp()),
        "type": "file.get",
        "user_id": "guest",
        "app_id": "billing",
    }
    assert machine.outgoing == b""


def test_a_delivery_without_properties_has_empty_ones() -> None:
    machine = opened()
    channel = open_channel(machine)
    [message] = messages(machine.receive(deliver(channel, 1, b"x")))
    assert message.properties == {} and message.headers == {}


def test_a_delivery_fed_byte_by_byte() -> None:
    machine = opened()
    channel = open_channel(machine)
    data = deliver(channel, 1, b"hello world", properties=PROPERTIES)
    events: list[Event] = []
    for index in range(len(data)):
        step = machine.receive(data[index : index + 1])
        if index < len(data) - 1:
            assert step == []
        events += step
    [message] = messages(events)
    assert message.body == b"hello world" and message.properties["message_id"] == "m-1"


@pytest.mark.parametrize("chunk", [2, 3, 5, 7, 13, 64, 1000])
def test_deliveries_fed_in_arbitrary_chunks(chunk: int) -> None:
    machine = opened(frame_max=4096)
    channel = open_channel(machine)
    bodies = [b"", b"a", b"b" * 5000, bytes(range(256)) * 3, b"last"]
    data = b"".join(
        deliver(channel, tag, body, frame_size=4088, properties=PROPERTIES)
        for tag, body in enumerate(bodies, start=1)
    )
    events: list[Event] = []
    for start in range(0, len(data), chunk):
        events += machine.receive(data[start : start + chunk])
    received = messages(events)
    assert [m.delivery_tag for m in received] == [1, 2, 3, 4, 5]
    assert [m.body for m in received] == bodies


def test_several_deliveries_in_one_read_come_out_in_order() -> None:
    machine = opened()
    first, second = open_channel(machine), open_channel(machine)
    data = (
        deliver(first, 1, b"one")
        + deliver(second, 1, b"two", consumer_tag="other")
        + marshal(Heartbeat(), 0)
        + deliver(first, 2, b"three")
    )
    received = messages(machine.receive(data))
    assert [(m.channel, m.delivery_tag, m.body) for m in received] == [
        (first, 1, b"one"),
        (second, 1, b"two"),
        (first, 2, b"three"),
    ]
    assert received[1].consumer_tag == "other"


def test_a_body_split_over_several_frames_is_joined() -> None:
    machine = opened(frame_max=4096)
    channel = open_channel(machine)
    body = bytes(range(256)) * 100  # 25600 bytes: 7 body frames of at most 4088
    data = deliver(channel, 1, body, frame_size=4088)
    assert len(raw_frames(data)) == 2 + 7
    [message] = messages(machine.receive(data))
    assert message.body == body


def test_interleaved_contents_of_two_channels_are_kept_apart() -> None:
    machine = opened()
    first, second = open_channel(machine), open_channel(machine)
    one = raw_frames(deliver(first, 1, b"aaaa" * 3, frame_size=4))
    two = raw_frames(deliver(second, 1, b"bbbb" * 2, frame_size=4))
    interleaved = [one[0], two[0], one[1], two[1], one[2], two[2], one[3], two[3], one[4]]
    data = b"".join(marshal(value, channel) for channel, value in interleaved)
    received = messages(machine.receive(data))
    assert [(m.channel, m.body) for m in received] == [(second, b"bbbbbbbb"), (first, b"a" * 12)]


def test_an_empty_body_ends_with_its_header() -> None:
    machine = opened()
    channel = open_channel(machine)
    data = deliver(channel, 1, b"")
    assert len(raw_frames(data)) == 2  # no body frame at all
    [message] = messages(machine.receive(data))
    assert message.body == b""
    assert messages(machine.receive(deliver(channel, 2, b"next")))[0].body == b"next"


HEADERS: dict[str, Any] = {
    "str": "text é✓",
    "empty": "",
    "zero": 0,
    "small": 7,
    "negative": -40000,
    "int32": 70000,
    "int64": 2**40,
    "negative64": -(2**40),
    "true": True,
    "false": False,
    "float": 2.5,
    "bytes": bytearray(b"\x00\xff"),
    "none": None,
    "list": [1, "two", [3], {"four": 4}],
    "table": {"nested": {"deeper": "yes"}, "n": 1},
    "x-death": [{"count": 2, "queue": "q", "reason": "rejected"}],
}

RARE_HEADERS: dict[str, Any] = {
    "decimal": decimal.Decimal("3.14"),
    "when": dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC),
    "plain": "x",
}


@pytest.mark.parametrize("headers", [HEADERS, RARE_HEADERS], ids=["common", "rare"])
def test_header_tables_read_as_pamqp_reads_them(headers: dict[str, Any]) -> None:
    machine = opened()
    channel = open_channel(machine)
    properties = spec.Basic.Properties(headers=headers, message_id="m")
    header_frame = marshal(ContentHeader(0, 1, properties), channel)
    _, _, pamqp_header = unmarshal(header_frame)
    assert isinstance(pamqp_header, ContentHeader)
    expected = pamqp_header.properties.headers
    [message] = messages(
        machine.receive(
            frame(channel, spec.Basic.Deliver("t", 1, False, "", "k"))
            + header_frame
            + marshal(ContentBody(b"x"), channel)
        )
    )
    assert message.headers == expected
    assert message.properties == {"message_id": "m"}  # headers are not a property
    for name, value in headers.items():
        if not isinstance(value, float | dt.datetime | decimal.Decimal):
            assert message.headers[name] == value, name


# -- basic.get and basic.return --------------------------------------------------------


def test_get_ok_is_a_message_and_get_empty_a_method() -> None:
    machine = opened()
    channel = open_channel(machine)
    get_ok = spec.Basic.GetOk(
        delivery_tag=4, redelivered=True, exchange="e", routing_key="k", message_count=9
    )
    [message] = messages(machine.receive(frame(channel, get_ok) + content(channel, b"got")))
    assert message.kind == GET_OK
    assert (message.delivery_tag, message.redelivered, message.message_count) == (4, True, 9)
    assert (message.exchange, message.routing_key, message.body) == ("e", "k", b"got")
    [event] = machine.receive(frame(channel, spec.Basic.GetEmpty()))
    assert method_shape(event) == shape(channel, spec.Basic.GetEmpty())


def test_a_return_is_a_message_with_its_reply() -> None:
    machine = opened()
    channel = open_channel(machine)
    returned = spec.Basic.Return(
        reply_code=312, reply_text="NO_ROUTE", exchange="vincent", routing_key="nobody.home"
    )
    data = frame(channel, returned) + content(
        channel, b"body", spec.Basic.Properties(message_id="m-9")
    )
    [message] = messages(machine.receive(data))
    assert message.kind == RETURN
    assert (message.reply_code, message.reply_text) == (312, "NO_ROUTE")
    assert (message.exchange, message.routing_key) == ("vincent", "nobody.home")
    assert message.properties == {"message_id": "m-9"} and message.body == b"body"


# -- publisher confirms --------------------------------------------------------------


def test_confirms_single_and_multiple_acks_and_nacks() -> None:
    machine = opened()
    channel = open_channel(machine)
    data = (
        frame(channel, spec.Basic.Ack(delivery_tag=1))
        + frame(channel, spec.Basic.Ack(delivery_tag=5, multiple=True))
        + frame(channel, spec.Basic.Nack(delivery_tag=6, requeue=True))
        + frame(channel, spec.Basic.Nack(delivery_tag=2**40, multiple=True, requeue=False))
    )
    assert machine.receive(data) == [
        Confirm(channel, 1, multiple=False, ack=True),
        Confirm(channel, 5, multiple=True, ack=True),
        Confirm(channel, 6, multiple=False, ack=False),
        Confirm(channel, 2**40, multiple=True, ack=False),
    ]


# -- channels --------------------------------------------------------------------------


def test_channel_numbers_count_up_and_are_sent_as_channel_open() -> None:
    machine = opened()
    first, data = machine.open_channel()
    second, _ = machine.open_channel()
    assert (first, second) == (1, 2)
    assert decoded(data) == [shape(1, spec.Channel.Open())]
    assert machine.channel_open(1) and machine.channel_open(2) and not machine.channel_open(3)


def test_channel_numbers_run_out_at_channel_max_and_come_back_after_close_ok() -> None:
    machine = opened(channel_max=2)
    assert open_channel(machine) == 1
    assert open_channel(machine) == 2
    with pytest.raises(ProtocolError, match="all 2 channels are in use"):
        machine.open_channel()
    close = machine.close_channel(1)
    assert decoded(close) == [
        shape(1, spec.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
    ]
    assert not machine.channel_open(1)
    with pytest.raises(ProtocolError):
        machine.open_channel()  # not before the broker's close-ok
    [event] = machine.receive(frame(1, spec.Channel.CloseOk()))
    assert event == ChannelClosed(1, 200, "closed", by_broker=False)
    assert machine.outgoing == b""
    assert machine.open_channel()[0] == 1


def test_a_closed_channel_is_not_closed_twice() -> None:
    machine = opened()
    channel = open_channel(machine)
    assert machine.close_channel(channel, 406, "bad") != b""
    assert machine.close_channel(channel) == b""
    assert machine.close_channel(99) == b""


def test_frames_for_a_channel_we_are_closing_are_dropped_until_its_close_ok() -> None:
    machine = opened()
    channel = open_channel(machine)
    machine.receive(frame(channel, spec.Basic.Deliver("t", 1, False, "", "k")))  # in flight
    machine.close_channel(channel)
    late = (
        content(channel, b"rest of 1")
        + deliver(channel, 2, b"two")
        + frame(channel, spec.Basic.Ack(delivery_tag=3))
        + frame(channel, spec.Basic.ConsumeOk(consumer_tag="t"))
    )
    assert machine.receive(late) == []
    [event] = machine.receive(frame(channel, spec.Channel.CloseOk()))
    assert isinstance(event, ChannelClosed) and not event.by_broker
    # Reopened, the number starts clean: no half message left from before.
    machine_two = opened(channel_max=1)
    number = open_channel(machine_two)
    machine_two.receive(frame(number, spec.Basic.Deliver("t", 1, False, "", "k")))
    machine_two.close_channel(number)
    machine_two.receive(frame(number, spec.Channel.CloseOk()))
    assert open_channel(machine_two) == number
    with pytest.raises(ProtocolError, match="without its method"):
        machine_two.receive(content(number, b"stale"))


def test_a_channel_closed_by_the_broker_is_reported_and_answered() -> None:
    machine = opened()
    channel = open_channel(machine)
    other = open_channel(machine)
    machine.receive(frame(channel, spec.Basic.Deliver("t", 1, False, "", "k")))  # half
    close = spec.Channel.Close(
        reply_code=404, reply_text="NOT_FOUND - no queue 'q'", class_id=50, method_id=10
    )
    [event] = machine.receive(frame(channel, close))
    assert event == ChannelClosed(channel, 404, "NOT_FOUND - no queue 'q'", 50, 10)
    assert event.by_broker
    assert sent(machine) == [shape(channel, spec.Channel.CloseOk())]
    assert not machine.channel_open(channel) and machine.channel_open(other)
    assert machine.close_channel(channel) == b""  # nothing more to send on it
    # The half message went with the channel: a stray header for it is refused.
    with pytest.raises(ProtocolError):
        machine.receive(content(channel, b"x"))


def test_the_number_of_a_channel_the_broker_closed_is_reusable() -> None:
    machine = opened(channel_max=1)
    channel = open_channel(machine)
    machine.receive(
        frame(channel, spec.Channel.Close(reply_code=406, reply_text="x", class_id=0, method_id=0))
    )
    machine.outgoing.clear()
    assert open_channel(machine) == channel


def test_crossing_channel_closes_report_the_channel_closed_once() -> None:
    machine = opened(channel_max=1)
    channel = open_channel(machine)
    machine.close_channel(channel)
    [event] = machine.receive(
        frame(channel, spec.Channel.Close(reply_code=406, reply_text="x", class_id=0, method_id=0))
    )
    assert isinstance(event, ChannelClosed) and event.by_broker
    assert sent(machine) == [shape(channel, spec.Channel.CloseOk())]
    # RabbitMQ answers our channel.close (it crossed its own) with close-ok.
    assert machine.receive(frame(channel, spec.Channel.CloseOk())) == []
    assert open_channel(machine) == channel


def test_channel_flow_is_answered_with_flow_ok() -> None:
    machine = opened()
    channel = open_channel(machine)
    assert machine.receive(frame(channel, spec.Channel.Flow(active=False))) == []
    assert sent(machine) == [shape(channel, spec.Channel.FlowOk(active=False))]
    machine.receive(frame(channel, spec.Channel.Flow(active=True)))
    assert sent(machine) == [shape(channel, spec.Channel.FlowOk(active=True))]


def test_other_methods_are_handed_on() -> None:
    machine = opened()
    channel = open_channel(machine)
    data = (
        frame(channel, spec.Queue.DeclareOk(queue="q", message_count=3, consumer_count=1))
        + frame(channel, spec.Basic.Cancel(consumer_tag="ctag"))
        + frame(0, spec.Connection.UpdateSecretOk())
    )
    first, second, third = machine.receive(data)
    assert method_shape(first) == shape(
        channel, spec.Queue.DeclareOk(queue="q", message_count=3, consumer_count=1)
    )
    assert method_shape(second) == shape(channel, spec.Basic.Cancel(consumer_tag="ctag"))
    assert method_shape(third) == shape(0, spec.Connection.UpdateSecretOk())


def test_open_channel_needs_an_open_connection() -> None:
    with pytest.raises(ProtocolError, match="not open"):
        Machine(Credentials()).open_channel()


# -- the connection's life -------------------------------------------------------------


def test_connection_close_from_the_broker() -> None:
    machine = opened()
    channel = open_channel(machine)
    close = spec.Connection.Close(
        reply_code=320, reply_text="CONNECTION_FORCED - shutdown", class_id=0, method_id=0
    )
    [event] = machine.receive(frame(0, close))
    assert event == Closed(320, "CONNECTION_FORCED - shutdown", stage="")
    assert event.by_broker
    assert sent(machine) == [shape(0, spec.Connection.CloseOk())]
    assert machine.state == "closed" and not machine.channel_open(channel)
    with pytest.raises(ProtocolError):
        machine.open_channel()


def test_our_close_then_its_close_ok() -> None:
    machine = opened()
    open_channel(machine)
    machine.close(200, "bye")
    assert sent(machine) == [
        shape(0, spec.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0))
    ]
    assert machine.state == "closing" and not machine.usable
    machine.close()  # a second close says nothing more
    assert machine.outgoing == b""
    assert machine.close_channel(1) == b""
    [event] = machine.receive(frame(0, spec.Connection.CloseOk()))
    assert event == Closed(200, "closed", by_broker=False)
    assert machine.state == "closed" and machine.outgoing == b""


def test_crossing_connection_closes_are_not_answered_twice() -> None:
    machine = opened()
    machine.close()
    machine.outgoing.clear()
    [event] = machine.receive(
        frame(0, spec.Connection.Close(reply_code=320, reply_text="x", class_id=0, method_id=0))
    )
    assert isinstance(event, Closed) and event.by_broker and event.reply_code == 320
    assert machine.outgoing == b""


def test_a_close_mid_handshake_says_nothing_to_the_broker() -> None:
    machine = Machine(Credentials())
    machine.receive(frame(0, START))
    machine.outgoing.clear()
    machine.close()
    assert machine.state == "closed" and machine.outgoing == b""


def test_blocked_and_unblocked() -> None:
    machine = opened()
    data = frame(0, spec.Connection.Blocked(reason="low on memory")) + frame(
        0, spec.Connection.Unblocked()
    )
    assert machine.receive(data) == [Blocked("low on memory"), Unblocked()]
    assert machine.outgoing == b""


def test_heartbeats_are_read_and_ignored() -> None:
    machine = opened()
    assert machine.receive(Machine.heartbeat_frame() * 3) == []
    assert decoded(Machine.heartbeat_frame()) == [shape(0, Heartbeat())]


def test_lost_forgets_everything() -> None:
    machine = opened()
    channel = open_channel(machine)
    machine.receive(frame(channel, spec.Basic.Deliver("t", 1, False, "", "k")))
    machine.lost()
    assert machine.state == "closed" and not machine.channel_open(channel)


# -- what no broker may send -----------------------------------------------------------


def test_a_frame_without_its_frame_end_is_a_protocol_error() -> None:
    machine = opened()
    data = bytearray(frame(0, spec.Connection.Blocked(reason="x")))
    data[-1] = 0x00
    with pytest.raises(ProtocolError, match="frame end"):
        machine.receive(bytes(data))


def test_an_unknown_frame_type_is_a_protocol_error() -> None:
    machine = opened()
    with pytest.raises(ProtocolError, match="frame type 9"):
        machine.receive(b"\x09\x00\x00\x00\x00\x00\x00\xce")


def test_a_content_header_without_its_method_is_a_protocol_error() -> None:
    machine = opened()
    channel = open_channel(machine)
    with pytest.raises(ProtocolError, match="without its method"):
        machine.receive(content(channel, b"orphan"))


def test_a_second_content_header_is_a_protocol_error() -> None:
    machine = opened()
    channel = open_channel(machine)
    header = marshal(ContentHeader(0, 5, spec.Basic.Properties()), channel)
    machine.receive(frame(channel, spec.Basic.Deliver("t", 1, False, "", "k")) + header)
    with pytest.raises(ProtocolError, match="without its method"):
        machine.receive(header)


def test_a_body_without_its_header_is_a_protocol_error() -> None:
    machine = opened()
    channel = open_channel(machine)
    machine.receive(frame(channel, spec.Basic.Deliver("t", 1, False, "", "k")))
    with pytest.raises(ProtocolError, match="without its header"):
        machine.receive(marshal(ContentBody(b"x"), channel))


def test_a_body_longer_than_its_header_says_is_a_protocol_error() -> None:
    machine = opened()
    channel = open_channel(machine)
    data = (
        frame(channel, spec.Basic.Deliver("t", 1, False, "", "k"))
        + marshal(ContentHeader(0, 3, spec.Basic.Properties()), channel)
        + marshal(ContentBody(b"ab"), channel)
        + marshal(ContentBody(b"cd"), channel)
    )
    with pytest.raises(ProtocolError, match="longer than its header"):
        machine.receive(data)


def test_an_undecodable_method_is_a_protocol_error() -> None:
    machine = opened()
    # class 10 method 99 does not exist
    data = b"\x01\x00\x00\x00\x00\x00\x04\x00\x0a\x00\x63\xce"
    with pytest.raises(ProtocolError, match="undecodable method"):
        machine.receive(data)
