"""Every delivery ends (CONTRACT 6.2), against what a real broker and real operators do.

Each test stages one observation of issue 13 on the private RabbitMQ node: helper queues
deleted while the worker runs, a capped dead-letter queue, foreign header values, a
validated ``user_id``, errors larger than a frame, exceptions whose ``str()`` raises, a
queue name at AMQP's limit, and spoofed ``x-vincent-original-*`` headers (issue 14.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest

from tests.integration.foreign import RawLongString, foreign_publish
from tests.poll import eventually_async
from vincent_core import Client, Message, RemoteError, Vincent
from vincent_core.transport.base import Delivery
from vincent_core.wire.envelope import Envelope

pytestmark = pytest.mark.rabbitmq

TIMEOUT = 20.0


async def depth(client: Client, queue: str) -> int:
    info = await client.queue_info(queue)
    return info.messages if info is not None else -1


async def take_every(client: Client, queue: str, expected: int) -> list[Envelope]:
    """Exactly ``expected`` messages from ``queue`` (acked), then nothing more."""
    taken: list[Envelope] = []

    async def got_them() -> bool:
        if await client.queue_info(queue) is None:
            return False  # deleted, not declared again yet
        delivery: Delivery | None = await client.take(queue)
        if delivery is not None:
            await delivery.ack()
            taken.append(delivery.envelope)
        return len(taken) >= expected

    await eventually_async(got_them, TIMEOUT)
    assert await client.take(queue) is None, f"more than {expected} message(s) in {queue!r}"
    return taken


async def settled(client: Client, queue: str) -> bool:
    """Nothing ready and nothing unacked in ``queue`` (its consumer holds nothing)."""
    info = await client.queue_info(queue)
    return info is not None and info.messages == 0


async def test_copies_to_deleted_helper_queues_are_not_lost(
    broker_url: str, rabbit_node, exchange: str, ns
) -> None:
    """Observation 1: delete vincent.dead and <queue>.retry while the worker runs."""
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))
    key = ns("fails")

    @app.listen(key, retries=1, retry_delays=(0.1,))
    async def fails(msg: Message) -> None:
        raise RuntimeError("always")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(key, {"n": 0})
        await take_every(client, ns("dead"), 1)  # both helper queues exist now
        for name in (ns("dead"), f"{key}.retry"):
            await asyncio.to_thread(rabbit_node.rabbitmqctl, "delete_queue", name)
        await client.cast(key, {"n": 1})
        await client.cast(key, {"n": 2})
        dead = await take_every(client, ns("dead"), 2)
        assert sorted(json.loads(d.body)["n"] for d in dead) == [1, 2]
        assert all(d.headers["x-vincent-attempts"] == 2 for d in dead)


async def test_a_capped_dead_letter_queue_does_not_stall_the_listener(
    broker_url: str, rabbit_node, exchange: str, ns
) -> None:
    """Observation 2: max-length 0 + reject-publish on the dead-letter queue (a nack)."""
    dead_queue, key = ns("dead"), ns("capped")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)
    handled: list[int] = []

    @app.listen(key, retries=0, concurrency=1)
    async def capped(msg: Message) -> None:
        if msg["fail"]:
            raise RuntimeError("to the dead letters")
        handled.append(msg["n"])

    policy = json.dumps({"max-length": 0, "overflow": "reject-publish"})
    await asyncio.to_thread(
        rabbit_node.rabbitmqctl,
        "set_policy",
        ns("cap"),
        f"^{dead_queue}$",
        policy,
        "--apply-to",
        "queues",
    )
    try:
        async with app.running(), Client(broker_url, exchange=exchange) as client:
            await client.cast(key, {"fail": True, "n": -1})
            for n in range(3):
                await client.cast(key, {"fail": False, "n": n})

            async def others_handled() -> bool:
                return sorted(handled) == [0, 1, 2]

            await eventually_async(others_handled, TIMEOUT)
            assert await depth(client, dead_queue) == 0
            await asyncio.to_thread(rabbit_node.rabbitmqctl, "clear_policy", ns("cap"))
            [dead] = await take_every(client, dead_queue, 1)
            assert json.loads(dead.body)["n"] == -1
            await eventually_async(lambda: settled(client, key), TIMEOUT)
    finally:
        await asyncio.to_thread(_clear_policy, rabbit_node, ns("cap"))


def _clear_policy(node: Any, name: str) -> None:
    with contextlib.suppress(RuntimeError):  # already cleared
        node.rabbitmqctl("clear_policy", name)


async def test_foreign_header_values_survive_in_copies(broker_url: str, exchange: str, ns) -> None:
    """Observation 3: a long string that is not UTF-8, doubles (one beyond float32)."""
    dead_queue, key, echo = ns("dead"), ns("foreign"), ns("echo")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)
    seen: list[dict[str, Any]] = []

    @app.listen(key, retries=1, retry_delays=(0.05,), concurrency=2)
    async def foreign(msg: Message) -> None:
        seen.append(dict(msg.headers))
        raise ValueError("no")

    @app.listen(echo)
    async def answer(msg: Message) -> Any:
        return msg.body

    headers = {
        "raw": RawLongString(b"\xff\xfe not utf-8"),
        "big": 1e300,
        "tenth": 0.1,
        "blob": b"\x00\x01",
        "nested": {"f": 2.5, "list": [0.1, RawLongString(b"\x80")]},
    }
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await asyncio.to_thread(
            foreign_publish, broker_url, exchange, key, b"{}", headers=headers, count=2
        )
        dead = await take_every(client, dead_queue, 2)
        assert await client.call(echo, {"still": "answering"}, timeout=10) == {"still": "answering"}
    first = seen[0]
    assert first["raw"] == b"\xff\xfe not utf-8"
    assert first["big"] == 1e300
    assert first["tenth"] == 0.1
    for letter in dead:
        for name in headers:
            assert letter.headers[name] == first[name], name
            assert type(letter.headers[name]) is type(first[name]), name
    assert len(seen) == 4  # two messages, each tried twice


async def test_a_validated_user_id_does_not_poison_copies(
    broker_url: str, rabbit_node, exchange: str, ns
) -> None:
    """Observation 4: another RabbitMQ user publishes with its (validated) user_id."""
    user, password = ns("user"), "secret-pw"
    await asyncio.to_thread(rabbit_node.rabbitmqctl, "add_user", user, password)
    await asyncio.to_thread(
        rabbit_node.rabbitmqctl, "set_permissions", "-p", "/", user, ".*", ".*", ".*"
    )
    other_url = broker_url.replace("guest:guest@", f"{user}:{password}@")
    dead_queue, key, echo = ns("dead"), ns("owned"), ns("echo")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)

    @app.listen(key, retries=1, retry_delays=(0.05,))
    async def owned(msg: Message) -> None:
        raise ValueError("no")

    @app.listen(echo)
    async def answer(msg: Message) -> Any:
        return msg.body

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await asyncio.to_thread(
            foreign_publish, other_url, exchange, key, b"{}", user_id=user, count=20
        )
        answers = await asyncio.gather(*(client.call(echo, n, timeout=10) for n in range(200)))
        assert answers == list(range(200))
        dead = await take_every(client, dead_queue, 20)
    for letter in dead:
        assert letter.user_id is None
        assert letter.headers["x-vincent-original-user"] == user


async def test_a_huge_error_is_dead_lettered_once(broker_url: str, exchange: str, ns) -> None:
    """Observation 5: a 100 KB (and a 1 MB) error message, and a long reject reason."""
    dead_queue, key, reject_key = ns("dead"), ns("huge"), ns("reject")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)
    runs: list[int] = []

    @app.listen(key, retries=0)
    async def huge(msg: Message) -> None:
        runs.append(msg["size"])
        raise ValueError("x" * msg["size"])

    @app.listen(reject_key)
    async def refuse(msg: Message) -> None:
        msg.reject("r" * 100_000)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(key, {"size": 100_000})
        await client.cast(key, {"size": 1_000_000})
        await client.cast(reject_key, {})
        dead = await take_every(client, dead_queue, 3)
        with pytest.raises(RemoteError) as caught:
            await client.call(key, {"size": 100_000}, timeout=10)
    assert len(caught.value.message) >= 100_000  # a reply carries it in its body
    assert sorted(runs) == [100_000, 100_000, 1_000_000]
    for letter in dead:
        for name in ("x-vincent-error-message", "x-vincent-error-traceback"):
            value = letter.headers[name]
            assert len(value.encode()) <= 8192, name
        message = letter.headers["x-vincent-error-message"]
        assert "[cut:" in message, message[-200:]
    reasons = sorted(letter.headers["x-vincent-reason"] for letter in dead)
    assert reasons == ["error", "error", "rejected"]


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception raises")


async def test_an_exception_whose_str_raises_is_answered_and_logged(
    broker_url: str, exchange: str, ns, caplog: pytest.LogCaptureFixture
) -> None:
    """Observation 6: the caller gets RemoteError, a cast is dead-lettered, both logged."""
    dead_queue, key = ns("dead"), ns("unprintable")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)

    @app.listen(key, retries=0)
    async def unprintable(msg: Message) -> None:
        raise Unprintable()

    with caplog.at_level(logging.INFO, logger="vincent"):
        async with app.running(), Client(broker_url, exchange=exchange) as client:
            with pytest.raises(RemoteError) as caught:
                await client.call(key, {}, timeout=10)
            message_id = await client.cast(key, {})
            [dead] = await take_every(client, dead_queue, 1)
            await eventually_async(lambda: settled(client, key), TIMEOUT)
    assert caught.value.type.endswith("Unprintable")
    assert dead.headers["x-vincent-error-type"].endswith("Unprintable")
    assert "str() failed" in dead.headers["x-vincent-error-message"]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("vincent")]
    assert any(message_id in line and key in line for line in lines), lines


async def test_a_queue_name_at_the_limit_still_retries(broker_url: str, exchange: str, ns) -> None:
    """Observation 6: a 250-byte queue name leaves no room for ``.retry``."""
    dead_queue, key = ns("dead"), ns("long")
    queue = (ns("q") + "." + "q" * 255)[:250]
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)
    attempts: list[int] = []

    @app.listen(key, queue=queue, retries=1, retry_delays=(0.05,))
    async def long(msg: Message) -> None:
        attempts.append(msg.headers.get("x-vincent-attempts", 0))
        raise ValueError("no")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(key, {})
        [dead] = await take_every(client, dead_queue, 1)
        await eventually_async(lambda: settled(client, queue), TIMEOUT)
    assert attempts == [0, 1]
    assert dead.headers["x-vincent-attempts"] == 2


async def test_spoofed_original_route_headers_are_ignored(
    broker_url: str, exchange: str, ns
) -> None:
    """Issue 14, item 3: only vincent's own copies may say where a message came from."""
    dead_queue, key = ns("dead"), ns("public.hello")
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=dead_queue)
    keys: list[tuple[str, int]] = []

    @app.listen(key, retries=1, retry_delays=(0.05,))
    async def hello(msg: Message) -> None:
        keys.append((msg.key, msg.headers.get("x-vincent-attempts", 0)))
        raise ValueError("no")

    spoof = {"x-vincent-original-key": "admin.shutdown", "x-vincent-original-exchange": "amq.topic"}
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await asyncio.to_thread(foreign_publish, broker_url, exchange, key, b"{}", headers=spoof)
        [dead] = await take_every(client, dead_queue, 1)
    assert keys == [(key, 0), (key, 1)]
    assert dead.headers["x-vincent-original-key"] == key
    assert dead.headers["x-vincent-original-exchange"] == exchange
