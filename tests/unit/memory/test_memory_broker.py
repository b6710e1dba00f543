"""The in-process broker behind ``memory://`` keeps RabbitMQ's semantics.

Time is a VirtualClock: TTLs and retry delays are tested by moving it, never by
sleeping. ``drain()`` lets the callbacks and task steps already scheduled on the loop
run (deliveries are asynchronous, as on a real broker) before asserting that nothing
more arrived.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from vincent_core.errors import (
    ConfigurationError,
    ConnectionLost,
    NoRoute,
)
from vincent_core.transport.base import DIRECT_REPLY_TO, Delivery, QueueSpec
from vincent_core.transport.memory import (
    MemoryBroker,
    MemoryTransport,
    SystemClock,
    VirtualClock,
    broker_name,
    get_broker,
    reset_broker,
)
from vincent_core.wire.envelope import Envelope

X = "vincent"
Connect = Callable[..., Awaitable[MemoryTransport]]


async def drain(rounds: int = 4) -> None:
    """Run everything already scheduled on the loop (FIFO), a few rounds deep."""
    loop = asyncio.get_running_loop()
    for _ in range(rounds):
        done = loop.create_future()
        loop.call_soon(done.set_result, None)
        await done


class Inbox:
    """A consumer that collects its deliveries (and settles nothing by itself)."""

    def __init__(self) -> None:
        self.deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        self.count = 0

    async def __call__(self, delivery: Delivery) -> None:
        self.count += 1
        await self.deliveries.put(delivery)

    async def next(self) -> Delivery:
        return await asyncio.wait_for(self.deliveries.get(), 5)

    async def bodies(self) -> list[bytes]:
        await drain()
        out: list[bytes] = []
        while not self.deliveries.empty():
            out.append(self.deliveries.get_nowait().envelope.body)
        return out


def message(key: str, body: bytes = b"{}", exchange: str = X, **properties: str) -> Envelope:
    return Envelope(exchange, key, body, **properties)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    reset_broker()
    clock = VirtualClock()
    get_broker(clock=clock)
    yield clock
    reset_broker()


@pytest.fixture
async def connect(clock: VirtualClock) -> AsyncIterator[Connect]:
    opened: list[MemoryTransport] = []

    async def open_transport(url: str = "memory://") -> MemoryTransport:
        transport = MemoryTransport(url)
        await transport.connect()
        await transport.declare_exchange(X)
        opened.append(transport)
        return transport

    yield open_transport
    for transport in opened:
        await transport.close()


@pytest.fixture
async def transport(connect: Connect) -> MemoryTransport:
    return await connect()


@pytest.fixture
def broker(clock: VirtualClock) -> MemoryBroker:
    return get_broker()


# -- routing -------------------------------------------------------------------------


async def test_topic_routing_with_star_and_hash(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    for name, pattern in [("star", "file.*"), ("hash", "file.#"), ("exact", "file.get")]:
        await transport.declare_queue(QueueSpec(name))
        await transport.bind(name, X, pattern)
    for key in ["file.get", "file", "file.get.now", "other"]:
        await transport.publish(message(key))
    assert [e.routing_key for e in broker.queue_messages("star")] == ["file.get"]
    assert [e.routing_key for e in broker.queue_messages("hash")] == [
        "file.get",
        "file",
        "file.get.now",
    ]
    assert [e.routing_key for e in broker.queue_messages("exact")] == ["file.get"]


async def test_a_queue_bound_twice_gets_one_copy(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.bind("q", X, "a.*")
    await transport.bind("q", X, "#")
    await transport.publish(message("a.b"))
    assert len(broker.queue_messages("q")) == 1


async def test_default_exchange_routes_to_the_queue_named_by_the_key(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("file.get"))
    await transport.publish(message("file.get", b"1", exchange=""))
    await transport.publish(message("nobody", b"2", exchange=""))
    assert [e.body for e in broker.queue_messages("file.get")] == [b"1"]


async def test_mandatory_without_a_route_raises_no_route(transport: MemoryTransport) -> None:
    with pytest.raises(NoRoute) as caught:
        await transport.publish(message("nobody.listens"), mandatory=True)
    assert (caught.value.key, caught.value.exchange) == ("nobody.listens", X)
    with pytest.raises(NoRoute):
        await transport.publish(message("no.queue", exchange=""), mandatory=True)
    await transport.publish(message("nobody.listens"))  # not mandatory: silently dropped


async def test_publish_to_an_undeclared_exchange_fails(transport: MemoryTransport) -> None:
    with pytest.raises(ConfigurationError, match="no exchange 'missing'"):
        await transport.publish(message("k", exchange="missing"))


async def test_bind_needs_the_exchange_and_the_queue(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q"))
    with pytest.raises(ConfigurationError, match="no exchange 'missing'"):
        await transport.bind("q", "missing", "#")
    with pytest.raises(ConfigurationError, match="no queue 'nope'"):
        await transport.bind("nope", X, "#")
    with pytest.raises(ConfigurationError, match="default exchange"):
        await transport.bind("q", "", "q")


async def test_unbind_stops_routing(transport: MemoryTransport, broker: MemoryBroker) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.bind("q", X, "k")
    await transport.unbind("q", X, "k")
    await transport.unbind("q", X, "k")  # a missing binding is fine
    with pytest.raises(NoRoute):
        await transport.publish(message("k"), mandatory=True)
    assert broker.bindings(X) == []


async def test_every_queue_gets_its_own_copy(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    original = message("k", headers={"nested": {"a": [1]}})  # type: ignore[arg-type]
    for name in ("one", "two"):
        await transport.declare_queue(QueueSpec(name))
        await transport.bind(name, X, "k")
    await transport.publish(original)
    one, two = broker.queue_messages("one")[0], broker.queue_messages("two")[0]
    one.headers["nested"]["a"].append(2)
    assert two.headers == {"nested": {"a": [1]}}
    assert broker.queue_messages("one")[0].headers == {"nested": {"a": [1]}}
    assert broker.published[-1][1] == original
    assert broker.published[-1][1] is not original


# -- consumers -----------------------------------------------------------------------


async def test_round_robin_across_two_consumers(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q"))
    first, second = Inbox(), Inbox()
    await transport.consume("q", first, prefetch=0)
    await transport.consume("q", second, prefetch=0)
    for n in range(6):
        await transport.publish(message("q", str(n).encode(), exchange=""))
    assert await first.bodies() == [b"0", b"2", b"4"]
    assert await second.bodies() == [b"1", b"3", b"5"]


async def test_prefetch_limits_unacked_deliveries(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    inbox = Inbox()
    await transport.consume("q", inbox, prefetch=2)
    for n in range(5):
        await transport.publish(message("q", str(n).encode(), exchange=""))
    await drain()
    assert inbox.count == 2
    assert len(broker.queue_messages("q")) == 3
    await (await inbox.next()).ack()
    await drain()
    assert inbox.count == 3


async def test_reject_with_requeue_goes_back_to_the_head_redelivered(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    for n in range(3):
        await transport.publish(message("q", str(n).encode(), exchange=""))
    first = await transport.get("q")
    assert first is not None and not first.redelivered
    await first.reject(requeue=True)
    assert [e.body for e in broker.queue_messages("q")] == [b"0", b"1", b"2"]
    again = await transport.get("q")
    assert again is not None and again.redelivered and again.envelope.body == b"0"
    await again.ack()
    await again.ack()  # settling twice is a no-op
    assert [e.body for e in broker.queue_messages("q")] == [b"1", b"2"]


async def test_reject_without_requeue_drops_without_a_dead_letter_exchange(
    transport: MemoryTransport,
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.publish(message("q", exchange=""))
    delivery = await transport.get("q")
    assert delivery is not None
    await delivery.reject(requeue=False)
    assert await transport.get("q") is None


async def test_reject_without_requeue_dead_letters(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("dead"))
    await transport.declare_queue(
        QueueSpec(
            "work",
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"},
        )
    )
    await transport.publish(message("work", b"bad", exchange=""))
    delivery = await transport.get("work")
    assert delivery is not None
    await delivery.reject(requeue=False)
    (dead,) = broker.queue_messages("dead")
    assert dead.body == b"bad"
    (death,) = dead.headers["x-death"]
    assert death["reason"] == "rejected"
    assert death["queue"] == "work"
    assert death["routing-keys"] == ["work"]


async def test_consumer_cancel_stops_delivery_and_keeps_unacked_settleable(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    inbox = Inbox()
    subscription = await transport.consume("q", inbox, prefetch=1)
    await transport.publish(message("q", b"1", exchange=""))
    delivery = await inbox.next()
    await subscription.cancel()
    await transport.publish(message("q", b"2", exchange=""))
    await delivery.ack()
    await drain()
    assert inbox.count == 1
    assert [e.body for e in broker.queue_messages("q")] == [b"2"]
    info = await transport.inspect_queue("q")
    assert info is not None and (info.messages, info.consumers) == (1, 0)


async def test_an_exclusive_consumer_is_alone(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.consume("q", Inbox(), prefetch=1, exclusive=True)
    with pytest.raises(ConfigurationError, match="exclusive use"):
        await transport.consume("q", Inbox(), prefetch=1)
    await transport.declare_queue(QueueSpec("r"))
    await transport.consume("r", Inbox(), prefetch=1)
    with pytest.raises(ConfigurationError, match="exclusive use"):
        await transport.consume("r", Inbox(), prefetch=1, exclusive=True)


async def test_consuming_a_missing_queue_fails(transport: MemoryTransport) -> None:
    with pytest.raises(ConfigurationError, match="no queue 'x'"):
        await transport.consume("x", Inbox(), prefetch=1)
    with pytest.raises(ConfigurationError, match="no queue 'x'"):
        await transport.get("x")


async def test_a_handler_that_raises_is_logged_and_its_delivery_stays_unacked(
    transport: MemoryTransport, caplog: pytest.LogCaptureFixture
) -> None:
    await transport.declare_queue(QueueSpec("q"))

    async def broken(delivery: Delivery) -> None:
        raise RuntimeError("boom")

    await transport.consume("q", broken, prefetch=1)
    await transport.publish(message("q", exchange=""))
    await drain()
    assert "consumer of 'q' raised" in caplog.text
    info = await transport.inspect_queue("q")
    assert info is not None and info.messages == 0


# -- connections ---------------------------------------------------------------------


async def test_closing_requeues_unacked_in_order_and_deletes_exclusive_queues(
    connect: Connect, broker: MemoryBroker
) -> None:
    worker, other = await connect(), await connect()
    await worker.declare_queue(QueueSpec("shared"))
    await worker.declare_queue(QueueSpec("mine", durable=False, exclusive=True))
    with pytest.raises(ConfigurationError, match="RESOURCE_LOCKED"):
        await other.declare_queue(QueueSpec("mine", durable=False, exclusive=True))
    for n in range(3):
        await other.publish(message("shared", str(n).encode(), exchange=""))
    inbox = Inbox()
    await worker.consume("shared", inbox, prefetch=2)
    first, second = await inbox.next(), await inbox.next()
    await worker.close()
    assert worker.state == "closed"
    assert [e.body for e in broker.queue_messages("shared")] == [b"0", b"1", b"2"]
    assert "mine" not in broker.queue_names()
    await first.ack()  # after the close: nothing left to settle
    assert len(broker.queue_messages("shared")) == 3
    redelivered = await other.get("shared")
    assert redelivered is not None and redelivered.redelivered
    assert second.envelope.body == b"1"


async def test_operations_on_a_closed_transport_raise_connection_lost(
    transport: MemoryTransport,
) -> None:
    states: list[str] = []
    transport.add_state_listener(states.append)
    await transport.close()
    assert states == ["closed"]
    with pytest.raises(ConnectionLost, match=r"memory://"):
        await transport.publish(message("k"))
    with pytest.raises(ConnectionLost):
        await transport.declare_queue(QueueSpec("q"))


async def test_state_goes_connecting_then_connected(clock: VirtualClock) -> None:
    transport = MemoryTransport("memory://")
    states: list[str] = []
    transport.add_state_listener(states.append)
    assert transport.state == "closed"
    await transport.connect()
    await transport.close()
    assert states == ["connecting", "connected", "closed"]
    assert transport.masked_url == "memory://"


async def test_auto_delete_queue_goes_with_its_last_consumer(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("tap", durable=False, auto_delete=True))
    first = await transport.consume("tap", Inbox(), prefetch=1)
    second = await transport.consume("tap", Inbox(), prefetch=1)
    await first.cancel()
    assert "tap" in broker.queue_names()
    await second.cancel()
    assert "tap" not in broker.queue_names()
    assert await transport.inspect_queue("tap") is None


async def test_redeclare_with_other_arguments_is_refused(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q", arguments={"x-message-ttl": 1000}))
    info = await transport.declare_queue(QueueSpec("q", arguments={"x-message-ttl": 1000}))
    assert info.name == "q"
    with pytest.raises(ConfigurationError, match=r"inequivalent arg 'x-message-ttl'.*1000"):
        await transport.declare_queue(QueueSpec("q", arguments={"x-message-ttl": 5000}))
    with pytest.raises(ConfigurationError, match="inequivalent arg 'durable'"):
        await transport.declare_queue(
            QueueSpec("q", durable=False, arguments={"x-message-ttl": 1000})
        )


async def test_purge_and_delete(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q"))
    for _ in range(3):
        await transport.publish(message("q", exchange=""))
    assert await transport.purge_queue("q") == 3
    await transport.delete_queue("q")
    await transport.delete_queue("q")  # missing is fine
    assert await transport.inspect_queue("q") is None


async def test_brokers_by_name_are_separate(connect: Connect) -> None:
    default, other = await connect("memory://"), await connect("memory://x")
    again = await connect("memory:///")
    await default.declare_queue(QueueSpec("q"))
    assert await other.inspect_queue("q") is None
    assert await again.inspect_queue("q") is not None
    assert get_broker("x") is not get_broker("")
    assert [broker_name(u) for u in ("memory://", "memory:///", "memory://x", "memory:///x")] == [
        "",
        "",
        "x",
        "x",
    ]
    reset_broker("x")


# -- TTL and dead-lettering ---------------------------------------------------------


async def test_per_message_ttl(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.publish(message("q", b"short", exchange="", expiration="1000"))
    await transport.publish(message("q", b"long", exchange="", expiration="5000"))
    clock.advance(0.999)
    assert len(broker.queue_messages("q")) == 2
    clock.advance(0.001)
    assert [e.body for e in broker.queue_messages("q")] == [b"long"]
    clock.advance(4)
    assert broker.queue_messages("q") == []


async def test_per_message_ttl_waits_for_the_head_like_a_classic_queue(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.publish(message("q", b"long", exchange="", expiration="5000"))
    await transport.publish(message("q", b"short", exchange="", expiration="1000"))
    clock.advance(2)
    assert [e.body for e in broker.queue_messages("q")] == [b"long", b"short"]
    clock.advance(3)
    assert broker.queue_messages("q") == []


async def test_queue_ttl(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_queue(QueueSpec("q", arguments={"x-message-ttl": 2000}))
    await transport.publish(message("q", b"1", exchange=""))
    clock.advance(1)
    await transport.publish(message("q", b"2", exchange="", expiration="10000"))
    clock.advance(1)
    assert [e.body for e in broker.queue_messages("q")] == [b"2"]
    clock.advance(1)
    assert broker.queue_messages("q") == []


async def test_a_zero_ttl_is_delivered_now_or_never(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.publish(message("q", b"lost", exchange="", expiration="0"))
    assert broker.queue_messages("q") == []
    inbox = Inbox()
    await transport.consume("q", inbox, prefetch=1)
    await transport.publish(message("q", b"taken", exchange="", expiration="0"))
    assert (await inbox.next()).envelope.body == b"taken"


async def test_an_expired_retry_comes_back_on_time_without_any_other_traffic(
    transport: MemoryTransport, clock: VirtualClock
) -> None:
    """vincent's retry: the failed message waits in ``<queue>.retry`` and dead-letters
    back onto ``<queue>`` through the default exchange when its expiration passes."""
    await transport.declare_queue(QueueSpec("work"))
    await transport.declare_queue(
        QueueSpec(
            "work.retry",
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work"},
        )
    )
    inbox = Inbox()
    await transport.consume("work", inbox, prefetch=1)
    retry = message("work.retry", b"again", exchange="", expiration="2000")
    retry.headers["x-vincent-attempts"] = 1
    await transport.publish(retry)
    clock.advance(1.5)
    await drain()
    assert inbox.count == 0
    clock.advance(0.5)
    delivery = await inbox.next()
    envelope = delivery.envelope
    assert (envelope.exchange, envelope.routing_key, envelope.body) == ("", "work", b"again")
    assert envelope.expiration is None
    assert envelope.headers["x-vincent-attempts"] == 1
    (death,) = envelope.headers["x-death"]
    assert {k: death[k] for k in ("queue", "reason", "count", "exchange", "routing-keys")} == {
        "queue": "work.retry",
        "reason": "expired",
        "count": 1,
        "exchange": "",
        "routing-keys": ["work.retry"],
    }
    assert death["original-expiration"] == "2000"
    assert envelope.headers["x-first-death-queue"] == "work.retry"


async def test_dead_lettering_keeps_the_routing_key_without_an_override(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_exchange("dlx")
    await transport.declare_queue(QueueSpec("dead"))
    await transport.bind("dead", "dlx", "#")
    await transport.declare_queue(
        QueueSpec("q", arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "dlx"})
    )
    await transport.bind("q", X, "file.*")
    await transport.publish(message("file.get"))
    clock.advance(0.1)
    (dead,) = broker.queue_messages("dead")
    assert (dead.exchange, dead.routing_key) == ("dlx", "file.get")
    assert dead.headers["x-death"][0]["exchange"] == X


async def test_an_automatic_dead_letter_cycle_is_dropped(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_queue(
        QueueSpec(
            "loop",
            arguments={"x-message-ttl": 100, "x-dead-letter-exchange": ""},
        )
    )
    await transport.publish(message("loop", exchange=""))
    clock.advance(0.1)
    assert broker.queue_messages("loop") == []
    assert clock.pending == 0


async def test_quorum_delivery_limit_dead_letters(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("dead"))
    await transport.declare_queue(
        QueueSpec(
            "q",
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": 1,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": "dead",
            },
        )
    )
    await transport.publish(message("q", exchange=""))
    first = await transport.get("q")
    assert first is not None
    await first.reject(requeue=True)
    second = await transport.get("q")
    assert second is not None and second.envelope.headers["x-delivery-count"] == 1
    await second.reject(requeue=True)
    assert await transport.get("q") is None
    (dead,) = broker.queue_messages("dead")
    assert dead.headers["x-death"][0]["reason"] == "delivery_limit"


async def test_max_length_drops_the_head(transport: MemoryTransport, broker: MemoryBroker) -> None:
    await transport.declare_queue(QueueSpec("q", arguments={"x-max-length": 2}))
    for n in range(3):
        await transport.publish(message("q", str(n).encode(), exchange=""))
    assert [e.body for e in broker.queue_messages("q")] == [b"1", b"2"]


async def test_switching_clocks_keeps_the_time_left(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    await transport.publish(message("q", exchange="", expiration="1000"))
    clock.advance(0.5)
    later = VirtualClock(start=100)
    broker.use_clock(later)
    clock.advance(10)
    assert len(broker.queue_messages("q")) == 1
    later.advance(0.5)
    assert broker.queue_messages("q") == []


async def test_system_clock_expires_on_the_loop(clock: VirtualClock) -> None:
    reset_broker()
    get_broker(clock=SystemClock())
    transport = MemoryTransport("memory://")
    await transport.connect()
    try:
        await transport.declare_queue(QueueSpec("work"))
        await transport.declare_queue(
            QueueSpec(
                "work.retry",
                arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work"},
            )
        )
        inbox = Inbox()
        await transport.consume("work", inbox, prefetch=1)
        await transport.publish(message("work.retry", exchange="", expiration="10"))
        assert (await inbox.next()).envelope.routing_key == "work"
    finally:
        await transport.close()


# -- direct reply-to -----------------------------------------------------------------


async def test_direct_reply_to_round_trip(connect: Connect, broker: MemoryBroker) -> None:
    client, server = await connect(), await connect()
    await server.declare_queue(QueueSpec("echo"))
    replies: asyncio.Queue[Envelope] = asyncio.Queue()

    def on_reply(envelope: Envelope) -> bool:
        if envelope.correlation_id != "c1":
            return False
        replies.put_nowait(envelope)
        return True

    address = await client.replies(on_reply)
    assert address.startswith(f"{DIRECT_REPLY_TO}.")
    assert await client.replies(on_reply) == address

    async def serve(delivery: Delivery) -> None:
        request = delivery.envelope
        assert request.reply_to is not None
        await server.publish(
            Envelope("", request.reply_to, b"pong", correlation_id=request.correlation_id),
            mandatory=True,
        )
        await delivery.ack()

    await server.consume("echo", serve, prefetch=1)
    await client.publish(
        Envelope("", "echo", b"ping", reply_to=address, correlation_id="c1"), mandatory=True
    )
    reply = await asyncio.wait_for(replies.get(), 5)
    assert (reply.body, reply.routing_key) == (b"pong", address)

    # An unclaimed reply is counted; one to an unknown address is dropped, not returned.
    await server.publish(Envelope("", address, b"late", correlation_id="c2"))
    await server.publish(Envelope("", f"{DIRECT_REPLY_TO}.unknown", b"x"), mandatory=True)
    await drain()
    assert client.unclaimed_replies == 1


async def test_the_pseudo_queue_name_is_rewritten_to_the_publishers_address(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))
    with pytest.raises(ConfigurationError, match="fast reply consumer"):
        await transport.publish(Envelope("", "q", b"", reply_to=DIRECT_REPLY_TO))
    address = await transport.replies(lambda envelope: True)
    await transport.publish(Envelope("", "q", b"", reply_to=DIRECT_REPLY_TO))
    assert broker.queue_messages("q")[0].reply_to == address


# -- threads -------------------------------------------------------------------------


async def test_a_transport_on_another_thread_reaches_this_loops_consumer(
    transport: MemoryTransport,
) -> None:
    """A SyncClient runs its own loop on a thread: deliveries still run on the
    consumer's loop."""
    await transport.declare_queue(QueueSpec("q"))
    seen: list[threading.Thread] = []
    inbox = Inbox()

    async def record(delivery: Delivery) -> None:
        seen.append(threading.current_thread())
        await inbox(delivery)

    await transport.consume("q", record, prefetch=1)

    async def publish_from_elsewhere() -> None:
        other = MemoryTransport("memory://")
        await other.connect()
        await other.publish(message("q", b"hi", exchange=""))
        await other.close()

    thread = threading.Thread(target=asyncio.run, args=(publish_from_elsewhere(),))
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert (await inbox.next()).envelope.body == b"hi"
    assert seen == [threading.main_thread()]


# -- the sans-io parts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"x-message-ttl": -1}, "x-message-ttl"),
        ({"x-message-ttl": "5"}, "x-message-ttl"),
        ({"x-dead-letter-routing-key": "k"}, "needs x-dead-letter-exchange"),
        ({"x-queue-type": "stream"}, "x-queue-type"),
    ],
)
async def test_invalid_arguments_are_refused(
    transport: MemoryTransport, arguments: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        await transport.declare_queue(QueueSpec("q", arguments=dict(arguments)))


async def test_an_invalid_expiration_is_refused(transport: MemoryTransport) -> None:
    await transport.declare_queue(QueueSpec("q"))
    with pytest.raises(ConfigurationError, match="invalid expiration"):
        await transport.publish(message("q", exchange="", expiration="1.5"))


async def test_x_death_counts_repeated_deaths(
    transport: MemoryTransport, broker: MemoryBroker, clock: VirtualClock
) -> None:
    """A message that expires in the retry queue twice (rejected in between) carries one
    x-death entry per (queue, reason), newest first, with its count."""
    await transport.declare_queue(
        QueueSpec(
            "work",
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work.retry"},
        )
    )
    await transport.declare_queue(
        QueueSpec(
            "work.retry",
            arguments={
                "x-message-ttl": 1000,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": "work",
            },
        )
    )
    await transport.publish(message("work.retry", exchange=""))
    for _ in range(2):
        clock.advance(1)
        delivery = await transport.get("work")
        assert delivery is not None
        await delivery.reject(requeue=False)
    clock.advance(1)
    (back,) = broker.queue_messages("work")
    deaths = [(d["queue"], d["reason"], d["count"]) for d in back.headers["x-death"]]
    assert deaths == [("work.retry", "expired", 3), ("work", "rejected", 2)]


def test_virtual_clock_runs_due_timers_in_order_and_skips_cancelled() -> None:
    clock = VirtualClock()
    ran: list[tuple[str, float]] = []
    clock.call_later(2, lambda: ran.append(("b", clock.now())))
    clock.call_later(1, lambda: ran.append(("a", clock.now())))
    cancelled = clock.call_later(1.5, lambda: ran.append(("never", clock.now())))
    cancelled.cancel()
    clock.advance(1.9)
    assert ran == [("a", 1.0)]
    clock.advance(0.1)
    assert ran == [("a", 1.0), ("b", 2.0)]
    assert clock.now() == 2.0 and clock.pending == 0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)


async def test_a_consumer_whose_loop_is_gone_loses_its_place_not_the_message(
    transport: MemoryTransport, broker: MemoryBroker
) -> None:
    await transport.declare_queue(QueueSpec("q"))

    async def consume_then_leave() -> None:
        other = MemoryTransport("memory://")
        await other.connect()
        await other.consume("q", Inbox(), prefetch=1)
        # never closed: its loop ends with asyncio.run

    thread = threading.Thread(target=asyncio.run, args=(consume_then_leave(),))
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    await transport.publish(message("q", b"kept", exchange=""))
    assert [e.body for e in broker.queue_messages("q")] == [b"kept"]
    info = await transport.inspect_queue("q")
    assert info is not None and info.consumers == 0
