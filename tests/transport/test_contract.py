"""RabbitMQ semantics vincent relies on, checked on both transports (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.poll import eventually, eventually_async
from tests.transport.conftest import Connect
from vincent_core.transport.base import Delivery, QueueSpec, Transport
from vincent_core.wire.envelope import Envelope, build_cast

pytestmark = [pytest.mark.rabbitmq]


class Inbox:
    """A consumer that collects its deliveries and settles nothing by itself."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    def bodies(self) -> list[bytes]:
        return [d.envelope.body for d in self.deliveries]


def message(exchange: str, key: str, n: Any, **fields: Any) -> Envelope:
    envelope = build_cast(exchange, key, {"n": n})
    for name, value in fields.items():
        setattr(envelope, name, value)
    return envelope


def body(n: Any) -> bytes:
    return b'{"n":%s}' % str(n).encode()


async def queue(transport: Transport, name: str, **options: Any) -> str:
    await transport.declare_queue(QueueSpec(name, durable=False, **options))
    return name


async def test_topic_routing_with_star_and_hash(transport: Transport, ns: Any) -> None:
    exchange = ns("x")
    await transport.declare_exchange(exchange)
    star, hash_ = await queue(transport, ns("star")), await queue(transport, ns("hash"))
    await transport.bind(star, exchange, "file.*")
    await transport.bind(hash_, exchange, "file.#")
    for key in ("file.get", "file.get.now", "other.get"):
        await transport.publish(message(exchange, key, key.count(".")))
    await eventually_async(lambda: _depth(transport, hash_, 2))
    assert await _depth(transport, star, 1)


async def _depth(transport: Transport, name: str, expected: int) -> bool:
    info = await transport.inspect_queue(name)
    return info is not None and info.messages == expected


async def test_round_robin_across_two_consumers(connect: Connect, ns: Any) -> None:
    first, second = await connect(), await connect()
    name = await queue(first, ns("q"))
    inboxes = Inbox(), Inbox()
    await first.consume(name, inboxes[0], prefetch=10)
    await second.consume(name, inboxes[1], prefetch=10)
    for n in range(6):
        await first.publish(message("", name, n))
    await eventually(lambda: sum(len(i.deliveries) for i in inboxes) == 6)
    assert [len(i.deliveries) for i in inboxes] == [3, 3]
    for inbox in inboxes:
        for delivery in inbox.deliveries:
            await delivery.ack()


async def test_prefetch_limits_unacked_deliveries(transport: Transport, ns: Any) -> None:
    name = await queue(transport, ns("q"))
    inbox = Inbox()
    await transport.consume(name, inbox, prefetch=2)
    for n in range(5):
        await transport.publish(message("", name, n))
    await eventually(lambda: len(inbox.deliveries) == 2)
    await eventually_async(lambda: _depth(transport, name, 3))
    assert inbox.bodies() == [body(0), body(1)]
    await inbox.deliveries[0].ack()
    await eventually(lambda: len(inbox.deliveries) == 3)
    for delivery in inbox.deliveries[1:]:
        await delivery.ack()


async def test_a_requeued_message_goes_back_to_the_head_redelivered(
    transport: Transport, ns: Any
) -> None:
    name = await queue(transport, ns("q"))
    for n in range(3):
        await transport.publish(message("", name, n))
    await eventually_async(lambda: _depth(transport, name, 3))
    taken = await transport.get(name)
    assert taken is not None and taken.envelope.body == body(0) and not taken.redelivered
    await taken.reject(requeue=True)
    await eventually_async(lambda: _depth(transport, name, 3))
    again = await transport.get(name)
    assert again is not None and again.envelope.body == body(0) and again.redelivered
    await again.ack()


async def _dead_letter_pair(transport: Transport, ns: Any, **arguments: Any) -> tuple[str, str]:
    dead = await queue(transport, ns("dead"))
    arguments = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead, **arguments}
    source = await queue(transport, ns("q"), arguments=arguments)
    return source, dead


async def test_a_rejected_message_is_dead_lettered_with_x_death(
    transport: Transport, ns: Any
) -> None:
    source, dead = await _dead_letter_pair(transport, ns)
    inbox = Inbox()
    await transport.consume(dead, inbox, prefetch=10)
    await transport.publish(message("", source, 1))
    await eventually_async(lambda: _depth(transport, source, 1))
    taken = await transport.get(source)
    assert taken is not None
    await taken.reject(requeue=False)
    await eventually(lambda: len(inbox.deliveries) == 1)
    first = inbox.deliveries[0]
    (death,) = first.envelope.headers["x-death"]
    assert death["queue"] == source and death["reason"] == "rejected" and death["count"] == 1
    assert first.envelope.headers["x-first-death-reason"] == "rejected"
    # Once more through the same queue: the same x-death entry counts 2.
    again = first.envelope.with_changes(exchange="", routing_key=source)
    await transport.publish(again)
    await first.ack()
    await eventually_async(lambda: _depth(transport, source, 1))
    retaken = await transport.get(source)
    assert retaken is not None
    await retaken.reject(requeue=False)
    await eventually(lambda: len(inbox.deliveries) == 2)
    (death,) = inbox.deliveries[1].envelope.headers["x-death"]
    assert death["count"] == 2
    await inbox.deliveries[1].ack()


async def test_an_expired_message_is_dead_lettered_as_expired(
    transport: Transport, ns: Any
) -> None:
    source, dead = await _dead_letter_pair(transport, ns, **{"x-message-ttl": 50})
    inbox = Inbox()
    await transport.consume(dead, inbox, prefetch=10)
    await transport.publish(message("", source, 1))
    await transport.publish(message("", source, 2, expiration="20"))
    await eventually(lambda: len(inbox.deliveries) == 2)
    assert sorted(inbox.bodies()) == [body(1), body(2)]
    for delivery in inbox.deliveries:
        (death,) = delivery.envelope.headers["x-death"]
        assert death["reason"] == "expired"
        await delivery.ack()


async def test_an_auto_delete_queue_goes_with_its_last_consumer(
    transport: Transport, ns: Any
) -> None:
    name = await queue(transport, ns("q"), auto_delete=True)
    subscription = await transport.consume(name, Inbox(), prefetch=1)
    assert await transport.inspect_queue(name) is not None
    await subscription.cancel()

    async def gone() -> bool:
        return await transport.inspect_queue(name) is None

    await eventually_async(gone)


async def test_direct_reply_to_round_trip(connect: Connect, ns: Any) -> None:
    caller, server = await connect(), await connect()
    name = await queue(server, ns("rpc"))
    replies: list[Envelope] = []

    def on_reply(envelope: Envelope) -> bool:
        replies.append(envelope)
        return True

    async def answer(delivery: Delivery) -> None:
        request = delivery.envelope
        reply = build_cast("", request.reply_to or "", {"answer": 42})
        reply.correlation_id = request.correlation_id
        await server.publish(reply)
        await delivery.ack()

    await server.consume(name, answer, prefetch=1)
    address = await caller.replies(on_reply, timeout=10)
    request = message("", name, 1, reply_to=address, correlation_id="c-1")
    await caller.publish(request, mandatory=True, timeout=10)
    await eventually(lambda: len(replies) == 1)
    assert replies[0].correlation_id == "c-1" and replies[0].body == b'{"answer":42}'
    caller.forget_replies(on_reply)


async def test_a_queue_deleted_under_its_consumer_comes_back(connect: Connect, ns: Any) -> None:
    owner, other = await connect(), await connect()
    name = await queue(owner, ns("q"))
    inbox = Inbox()
    await owner.consume(name, inbox, prefetch=10)
    await other.delete_queue(name)

    async def consumed_again() -> bool:
        info = await other.inspect_queue(name)
        return info is not None and info.consumers == 1

    await eventually_async(consumed_again)
    await other.publish(message("", name, 7))
    await eventually(lambda: inbox.bodies() == [body(7)])
    await inbox.deliveries[0].ack()


async def test_deleting_a_queue_on_its_own_connection_ends_its_consumer(
    transport: Transport, ns: Any
) -> None:
    name = await queue(transport, ns("q"))
    await transport.consume(name, Inbox(), prefetch=1)
    await transport.delete_queue(name)
    assert await transport.inspect_queue(name) is None
