"""Property: any foreign message ends in exactly one place, with its headers intact.

Hypothesis draws header tables (every AMQP field type pika can send, plus 64-bit
doubles and long strings that are not UTF-8, nested in tables and arrays) and bodies
(JSON or arbitrary bytes); a raw pika client publishes them to a worker whose handler
fails every time, so each goes the whole way: handler, retry copy, retry queue, back,
handler again, dead-letter copy. Each must then be in the dead-letter queue exactly
once, nowhere else, with the body byte for byte and every foreign header equal to what
RabbitMQ handed the worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apps.sink_process import SinkWorker, handled
from tests.integration.foreign import RawLongString, foreign_publish_many, not_utf8
from tests.poll import eventually_async
from vincent_core import Client
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.routing import retry_queue_name

pytestmark = pytest.mark.rabbitmq

TIMEOUT = 30.0


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
    st.binary(max_size=16),
    st.binary(min_size=1, max_size=16).filter(not_utf8).map(RawLongString),
    st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
tables = st.dictionaries(names.filter(lambda n: not n.startswith("x-")), values, max_size=6)
bodies = st.one_of(
    # No "n": the sink would record it as handled (and must not: every one fails).
    st.dictionaries(
        names.filter(lambda n: n not in ("n", "fail", "slow")), st.integers(), max_size=3
    ).map(lambda d: (json.dumps(d).encode(), "application/json")),
    st.binary(max_size=64).map(lambda b: (b, "application/octet-stream")),
)


def expected(value: Any) -> Any:
    """What RabbitMQ hands a pamqp consumer for what pika (with foreign.py) sent."""
    if isinstance(value, RawLongString):
        return bytes(value)
    if isinstance(value, bytes):
        return bytearray(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC)
    if isinstance(value, dict):
        return {k: expected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expected(v) for v in value]
    return value


@pytest.fixture(scope="module")
def worker(rabbit_node: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    token = f"p{uuid.uuid4().hex[:8]}"
    where = tmp_path_factory.mktemp("property")
    names = {
        "url": rabbit_node.url,
        "exchange": f"{token}.x",
        "key": f"{token}.foreign",
        "dead": f"{token}.dead",
        "sink": where / "sink.log",
    }
    process = SinkWorker(
        names["url"],
        names["exchange"],
        names["key"],
        names["sink"],
        SINK_DEAD=names["dead"],
        SINK_RETRIES="1",
        SINK_CONCURRENCY="4",
    )
    try:
        yield names
    finally:
        process.stop()


async def _dead_letters(url: str, queue: str, ids: set[str]) -> dict[str, list[Envelope]]:
    found: dict[str, list[Envelope]] = {}

    def count() -> int:
        return sum(len(v) for v in found.values())

    async with Client(url) as client:

        async def all_taken() -> bool:
            # Take no more than expected: an extra one is for the check below.
            while count() < len(ids) and await client.queue_info(queue):
                delivery = await client.take(queue)
                if delivery is None:
                    break
                await delivery.ack()
                found.setdefault(delivery.envelope.message_id or "", []).append(delivery.envelope)
            return count() >= len(ids)

        await eventually_async(
            all_taken, TIMEOUT, what=lambda: f"dead letters missing: {ids - set(found)}"
        )
        # Nothing more arrives for these: not a second copy, not in the retry queue.
        await asyncio.sleep(0.2)
        extra = await client.take(queue)
        assert extra is None, f"an extra dead letter: {extra.envelope.message_id}"
    return found


async def _queues_empty(url: str, queues: list[str]) -> bool:
    async with Client(url) as client:
        for name in queues:
            info = await client.queue_info(name)
            if info is not None and info.messages:
                return False
    return True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(tables, bodies), min_size=1, max_size=4))
def test_every_foreign_message_is_dead_lettered_once_with_its_headers(
    worker: dict[str, Any], messages: list[tuple[dict[str, Any], tuple[bytes, str]]]
) -> None:
    batch = []
    ids = set()
    for headers, (body, content_type) in messages:
        message_id = uuid.uuid4().hex
        ids.add(message_id)
        properties = {"message_id": message_id, "content_type": content_type}
        batch.append((worker["key"], body, headers, properties))
    foreign_publish_many(worker["url"], worker["exchange"], batch)
    found = asyncio.run(_dead_letters(worker["url"], worker["dead"], ids))
    assert set(found) == ids
    for _, body, headers, properties in batch:
        [letter] = found[properties["message_id"]]
        assert letter.body == body
        assert letter.headers["x-vincent-attempts"] == 2
        foreign = {k: v for k, v in letter.headers.items() if not k.startswith("x-")}
        assert foreign == expected(headers)
    assert not handled(Path(worker["sink"]))
    queues = [worker["key"], retry_queue_name(worker["key"])]
    assert asyncio.run(_queues_empty(worker["url"], queues))
