"""Pairing published messages into conversations (wire/firehose.py, wire/conversation.py)."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest

from vincent_core.wire.conversation import Conversations
from vincent_core.wire.envelope import Envelope, build_call, build_cast
from vincent_core.wire.firehose import Published, firehose_bindings, from_firehose
from vincent_core.wire.replies import build_error_reply, build_ok_reply
from vincent_core.wire.trace import TRACE_HEADER

REPLY_TO = "amq.rabbitmq.reply-to.g1h2AA5yZXBseUA.abc=="


def call(key: str, at: float, *, timeout: float = 5.0, **kwargs: object) -> Published:
    envelope = build_call("vincent", key, {"n": 1}, timeout=timeout, reply_to=REPLY_TO)
    for name, value in kwargs.items():
        setattr(envelope, name, value)
    return Published(envelope, (key,), at=at)


def reply(request: Published, at: float, value: object = "ok") -> Published:
    envelope = build_ok_reply(request.envelope, value)
    envelope.exchange, envelope.routing_key = "", request.envelope.reply_to or ""
    return Published(envelope, (), at=at)


def test_a_call_pairs_with_its_reply_and_measures_latency() -> None:
    conversations = Conversations(exchange="vincent")
    request = call("file.get", 10.0)
    assert conversations.feed(request) == []
    assert len(conversations) == 1
    (done,) = conversations.feed(reply(request, 10.25))
    assert (done.kind, done.status, done.key) == ("call", "ok", "file.get")
    assert done.latency == pytest.approx(0.25)
    assert done.reply is not None and done.correlation_id == request.envelope.correlation_id
    assert done.trace.id == request.envelope.message_id  # a root's id is its message id
    assert len(conversations) == 0


def test_an_error_reply_finishes_as_error() -> None:
    conversations = Conversations(exchange="vincent")
    request = call("file.get", 0.0)
    conversations.feed(request)
    failed = build_error_reply(request.envelope, ValueError("bad"))
    failed.exchange, failed.routing_key = "", REPLY_TO
    (done,) = conversations.feed(Published(failed, (), at=0.1))
    assert done.status == "error"


def test_a_foreign_reply_without_status_is_ok_and_message_id_correlates() -> None:
    conversations = Conversations(exchange="")
    request = Published(Envelope("", "rpc_queue", b"30", reply_to="amq.gen-1", message_id="m1"))
    conversations.feed(request)
    answer = Envelope("", "amq.gen-1", b"832040", correlation_id="m1")
    (done,) = conversations.feed(Published(answer, at=1.0))
    assert (done.status, done.key) == ("ok", "rpc_queue")


def test_an_unanswered_call_times_out_when_its_expiration_passes() -> None:
    conversations = Conversations(exchange="vincent")
    request = call("file.get", 100.0, timeout=2.0)
    conversations.feed(request)
    assert conversations.next_deadline() == pytest.approx(102.0)
    assert conversations.expire(101.9) == []
    (done,) = conversations.expire(102.0)
    assert (done.status, done.reply, done.latency) == ("timeout", None, None)
    assert conversations.next_deadline() is None
    # its reply, late, matches nothing
    assert conversations.feed(reply(request, 103.0)) == []
    assert conversations.unmatched == 1


def test_a_later_message_also_finishes_calls_that_timed_out_before_it() -> None:
    conversations = Conversations(exchange="vincent")
    conversations.feed(call("a", 0.0, timeout=1.0))
    done = conversations.feed(Published(build_cast("vincent", "b", {}), at=5.0))
    assert [(d.key, d.status) for d in done] == [("a", "timeout"), ("b", "cast")]


def test_a_cast_finishes_at_once_with_its_queues() -> None:
    conversations = Conversations(exchange="vincent")
    cast = Published(build_cast("vincent", "file.put", {}), ("audit", "mail"), at=1.0)
    (done,) = conversations.feed(cast)
    assert (done.kind, done.status, done.queues, done.latency) == (
        "cast",
        "cast",
        cast.queues,
        None,
    )


def test_patterns_and_exchange_select_requests() -> None:
    conversations = Conversations(exchange="vincent", patterns=["file.#"])
    assert conversations.feed(Published(build_cast("vincent", "audit.x", {}))) == []
    assert conversations.feed(Published(build_cast("other", "file.x", {}))) == []
    assert len(conversations.feed(Published(build_cast("vincent", "file.a.b", {})))) == 1
    # a request not traced: its reply is unmatched, not mistaken for a cast
    ignored = call("audit.get", 0.0)
    assert conversations.feed(ignored) == []
    assert conversations.feed(reply(ignored, 0.1)) == []
    assert conversations.unmatched == 1


def test_a_nested_call_carries_its_chain() -> None:
    conversations = Conversations(exchange="vincent")
    request = call("c", 0.0, headers={TRACE_HEADER: {"id": "f" * 32, "chain": ["a", "b"]}})
    conversations.feed(request)
    (done,) = conversations.feed(reply(request, 0.01))
    assert done.trace.id == "f" * 32 and done.trace.chain == ("a", "b")


def test_pending_calls_are_capped_oldest_first() -> None:
    conversations = Conversations(exchange="vincent", max_pending=3)
    requests = [call(f"k{i}", float(i)) for i in range(5)]
    for request in requests:
        conversations.feed(request)
    assert len(conversations) == 3 and conversations.evicted == 2
    assert conversations.feed(reply(requests[0], 6.0)) == []  # given up
    assert len(conversations.feed(reply(requests[4], 6.0))) == 1
    with pytest.raises(ValueError, match="max_pending"):
        Conversations(max_pending=0)


def test_deadlines_of_paired_calls_do_not_pile_up() -> None:
    conversations = Conversations(exchange="vincent")
    for i in range(5000):
        request = call("k", float(i))
        conversations.feed(request)
        conversations.feed(reply(request, float(i)))
    assert len(conversations._deadlines) <= 1024 + 2


def _decoded_copy(request: Envelope) -> Envelope:
    """The firehose copy of ``request`` as the connection decodes it: every string a
    fresh object, as a frame decoder makes them (nothing shared with ``request``)."""

    def fresh(text: str) -> str:
        return text.encode().decode()

    properties = {
        "content_type": fresh(request.content_type or ""),
        "delivery_mode": request.delivery_mode,
        "headers": {fresh(k): v for k, v in request.headers.items()},
        "message_id": fresh(request.message_id or ""),
        "correlation_id": fresh(request.correlation_id or ""),
        "reply_to": fresh(request.reply_to or ""),
        "expiration": fresh(request.expiration or ""),
        "timestamp": dt.datetime.fromtimestamp(request.timestamp or 0, dt.UTC),
    }
    return Envelope(
        "amq.rabbitmq.trace",
        fresh("publish." + request.exchange),
        bytes(bytearray(request.body)),
        headers={
            "exchange_name": fresh(request.exchange),
            "routing_keys": [fresh(request.routing_key)],
            "properties": properties,
            "routed_queues": [fresh(request.routing_key)],
            "node": fresh("rabbit@localhost"),
            "user": fresh("guest"),
        },
    )


def test_ten_thousand_pending_calls_cost_under_650_bytes_each() -> None:
    # Issue 18: `vincent trace` with 10,000 pending calls stays under 50 MiB, of which
    # an idle tracer takes ~39 MiB. As parsed objects a waiting request cost ~790 B here
    # (the tracer 50.8 MiB in bench scenario 10); interned strings and packed requests
    # bring it to ~570 B (46.7 MiB).
    body = {"file": "/gfs1/archive/2024/11/28/report-00000001.dat", "key_id": 1234, "n": 1}
    copies = [
        _decoded_copy(build_call("vincent", "file.get", body, timeout=600, reply_to=REPLY_TO))
        for _ in range(10_000)
    ]
    conversations = Conversations(exchange="vincent")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for copy in copies:
            published = from_firehose(copy, at=1.0, wall=2.0)
            assert published is not None
            conversations.feed(published)
        del copy, published
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(conversations) == 10_000 and conversations.evicted == 0
    assert used / 10_000 < 650, used / 10_000


def test_a_packed_request_comes_back_whole() -> None:
    request = call("file.get", 3.0, headers={"x-trace": {"id": "t1", "hops": [1, 2]}})
    request = Published(request.envelope, ("file.get",), at=3.0, wall=4.5)
    conversations = Conversations(exchange="vincent")
    conversations.feed(request)
    [done] = conversations.feed(reply(request, 3.5))
    assert done.request == request and done.request is not request
    # a header value marshal cannot write keeps the request as it is
    odd = call("file.get", 5.0, headers={"when": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)})
    conversations.feed(odd)
    [done] = conversations.feed(reply(odd, 5.5))
    assert done.request is odd


def test_firehose_copy_is_read_back_into_the_published_message() -> None:
    copy = Envelope(
        "amq.rabbitmq.trace",
        "publish.vincent",
        b'{"n":1}',
        headers={
            "exchange_name": "vincent",
            "routing_keys": ["file.get"],
            "properties": {
                "correlation_id": "c1",
                "reply_to": REPLY_TO,
                "timestamp": dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
                "delivery_mode": 2,
                "headers": {"x-vincent-deadline": 1},
                "cluster_id": "ignored",
            },
            "routed_queues": ["file.get"],
        },
    )
    published = from_firehose(copy, at=1.5, wall=2.5)
    assert published is not None
    envelope = published.envelope
    assert (envelope.exchange, envelope.routing_key, envelope.body) == (
        "vincent",
        "file.get",
        b'{"n":1}',
    )
    assert envelope.reply_to == REPLY_TO and envelope.correlation_id == "c1"
    assert envelope.timestamp == int(dt.datetime(2026, 12, 4, tzinfo=dt.UTC).timestamp())
    assert envelope.headers == {"x-vincent-deadline": 1}
    assert (published.queues, published.at, published.wall, published.size) == (
        ("file.get",),
        1.5,
        2.5,
        7,
    )
    assert from_firehose(copy.with_changes(routing_key="deliver.file.get")) is None


def test_firehose_bindings_take_the_exchange_and_the_replies() -> None:
    assert firehose_bindings("vincent") == ["publish.vincent", "publish."]
    assert firehose_bindings("") == ["publish."]
