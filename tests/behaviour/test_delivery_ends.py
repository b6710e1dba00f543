"""Every delivery ends (CONTRACT 6.2), on RabbitMQ and memory:// alike.

The RabbitMQ-only stagings (policies, a second user, raw foreign clients) are in
tests/integration/test_every_delivery_ends.py; what memory:// models is checked here.
"""

from __future__ import annotations

import pytest

from tests.behaviour.support import Broker, depth, take_all
from vincent_core import Client, Message, PublishFailed, RemoteError, Vincent
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.envelope import Envelope, build_cast


async def test_deleted_helper_queues_are_declared_again(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("fails"), retries=1, retry_delays=(0.1,))
    async def fails(msg: Message) -> None:
        raise RuntimeError("always")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("fails"), {"n": 0})
        await take_all(broker, client, ns("dead"), 1, advance=0.05)
        await client.transport.delete_queue(ns("dead"))
        await client.transport.delete_queue(f"{ns('fails')}.retry")
        await client.cast(ns("fails"), {"n": 1})

        async def recreated() -> bool:
            return await depth(client, ns("dead")) == 1

        await broker.eventually(recreated, advance=0.05)
        [dead] = await take_all(broker, client, ns("dead"), 1)
    assert dead.headers["x-vincent-attempts"] == 2


async def test_spoofed_route_headers_are_not_believed(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))
    keys: list[str] = []

    @app.listen(ns("public.hello"), retries=1, retry_delays=(0.05,))
    async def hello(msg: Message) -> None:
        keys.append(msg.key)
        raise ValueError("no")

    spoof = {"x-vincent-original-key": "admin.shutdown", "x-vincent-original-exchange": "amq.topic"}
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.publish(build_cast(exchange, ns("public.hello"), {}, headers=spoof))
        [dead] = await take_all(broker, client, ns("dead"), 1, advance=0.05)
    assert keys == [ns("public.hello")] * 2  # also on the retry vincent routed back
    assert dead.headers["x-vincent-original-key"] == ns("public.hello")
    assert dead.headers["x-vincent-original-exchange"] == exchange


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str() for you")


async def test_any_exception_ends_its_message(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("bad"), retries=0)
    async def bad(msg: Message) -> None:
        if msg.get("huge"):
            raise ValueError("x" * 100_000)
        raise Unprintable()

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(RemoteError) as caught:
            await client.call(ns("bad"), {}, timeout=10)
        await client.cast(ns("bad"), {})
        await client.cast(ns("bad"), {"huge": True})
        dead = await take_all(broker, client, ns("dead"), 2)
        assert await depth(client, ns("bad")) == 0
    assert caught.value.type.endswith("Unprintable")
    messages = sorted(d.headers["x-vincent-error-message"] for d in dead)
    assert "str() failed" in messages[0]
    assert messages[1].startswith("xxx") and "[cut: 100000 bytes in all]" in messages[1]
    assert all(len(d.headers["x-vincent-error-traceback"].encode()) <= 8192 for d in dead)


async def test_copies_carry_no_user_id(broker: Broker, broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("owned"), retries=1, retry_delays=(0.05,))
    async def owned(msg: Message) -> None:
        raise ValueError("no")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        envelope = build_cast(exchange, ns("owned"), {})
        envelope.user_id = "guest"  # the broker checks it: the connection's own user
        await client.publish(envelope)
        [dead] = await take_all(broker, client, ns("dead"), 1, advance=0.05)
    assert dead.user_id is None
    assert dead.headers["x-vincent-original-user"] == "guest"


async def test_a_queue_name_at_the_limit_retries(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    queue = (ns("q") + "." + "q" * 255)[:250]
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))
    attempts: list[int] = []

    @app.listen(ns("long"), queue=queue, retries=1, retry_delays=(0.05,))
    async def long(msg: Message) -> None:
        attempts.append(msg.headers.get("x-vincent-attempts", 0))
        raise ValueError("no")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("long"), {})
        await take_all(broker, client, ns("dead"), 1, advance=0.05)
    assert attempts == [0, 1]


async def test_a_full_reject_publish_queue_nacks(
    broker: Broker, broker_url: str, exchange: str, ns
) -> None:
    """What a capped dead-letter queue does to vincent's copy: a nack, PublishFailed."""
    arguments = {"x-max-length": 1, "x-overflow": "reject-publish"}
    async with Client(broker_url, exchange=exchange) as client:
        await client.transport.declare_queue(QueueSpec(ns("capped"), arguments=arguments))
        await client.publish(Envelope("", ns("capped"), b"1"), mandatory=True)
        with pytest.raises(PublishFailed):
            await client.publish(Envelope("", ns("capped"), b"2"), mandatory=True)
        assert await depth(client, ns("capped")) == 1
        await client.transport.delete_queue(ns("capped"))


async def test_a_failing_dispatcher_still_ends_the_message(
    broker: Broker, broker_url: str, exchange: str, ns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in building a copy (here: the retry copy) dead-letters the message with
    what is known instead of leaving it unacked."""
    from vincent_core.app import dispatch

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the copy builder")

    monkeypatch.setattr(dispatch, "build_retry", broken)
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("buggy"))
    async def buggy(msg: Message) -> None:
        raise ValueError("to be retried")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("buggy"), {}, headers={"mine": 1})
        [dead] = await take_all(broker, client, ns("dead"), 1)
        assert await depth(client, ns("buggy")) == 0
    assert dead.headers["x-vincent-error-message"] == "a bug in the copy builder"
    assert "x-vincent-headers-dropped" in dead.headers
    assert dead.body == b"{}"
