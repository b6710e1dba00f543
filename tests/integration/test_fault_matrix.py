"""The fault matrix: every message sent through a real worker ends in exactly one place.

Each row sends a mix of messages through a ``tests.apps.sink`` worker process on a
private RabbitMQ node while one fault happens: good ones (recorded by the handler),
poison ones (the handler raises; retried once, then dead-lettered) and stale ones (their
``x-vincent-deadline`` has passed: dropped as expired). After the run, for the row to
pass:

    sent = handled + dead-lettered + expired, lost = 0, stuck = 0

where each message is counted once by where it ended (the sink file, the dead-letter
queue, the worker's "deadline passed" log line), *lost* is a message found in none of
them, and *stuck* a message still ready or unacked in the listener's or its retry queue.
Duplicates (a message handled again after a crash before its ack: at-least-once) are
counted apart and allowed only where the fault makes them legitimate.

Every row prints its counts; docs/reliability.md shows the table. ``VINCENT_SOAK=K``
sends K times as many messages per row (a longer soak; the default keeps the matrix
near half a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.apps.sink_process import SinkWorker, handled
from tests.fixtures.rabbit import RabbitNode
from tests.integration.foreign import RawLongString, foreign_publish_many
from tests.poll import eventually_async, wait_until
from vincent_core import Client, VincentError
from vincent_core.wire.deadlines import DEADLINE_HEADER, now_ms
from vincent_core.wire.envelope import build_cast
from vincent_core.wire.routing import retry_queue_name

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

SOAK = int(os.environ.get("VINCENT_SOAK", "1"))
SENT = 60 * SOAK
USER, PASSWORD = "matrix-user", "matrix-pw"
HOSTILE_HEADERS = {
    "raw": RawLongString(b"\xff\xfe"),
    "big": 1e300,
    "tenth": 0.1,
    "blob": b"\x00\x01",
    "deep": {"list": [0.5, RawLongString(b"\x80")]},
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A node of this module's own: rows restart it and change its consumer_timeout."""
    rabbit = RabbitNode(tmp_path_factory.mktemp("matrix"))
    try:
        rabbit.start()
        rabbit.rabbitmqctl("add_user", USER, PASSWORD)
        rabbit.rabbitmqctl("set_permissions", "-p", "/", USER, ".*", ".*", ".*")
        yield rabbit
    finally:
        rabbit.stop()


@dataclass
class Run:
    """One row's worker(s), names and what was sent."""

    node: RabbitNode
    exchange: str
    key: str
    queue: str
    dead: str
    sink: Path
    env: dict[str, str]
    workers: list[SinkWorker] = field(default_factory=list)
    good: set[int] = field(default_factory=set)
    poison: set[int] = field(default_factory=set)
    stale: set[int] = field(default_factory=set)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def start_worker(self) -> SinkWorker:
        worker = SinkWorker(self.node.url, self.exchange, self.key, self.sink, None, **self.env)
        self.workers.append(worker)
        return worker

    def ctl(self, *args: str) -> str:
        return self.node.rabbitmqctl(*args)


@dataclass(frozen=True)
class Row:
    """A fault, and how messages are published and fail while it happens."""

    name: str
    fault: Callable[[Run], None] | None = None
    poison: str = "error"
    publisher: str = "vincent"
    duplicates: bool = False
    before: Callable[[Run], None] | None = None
    after: Callable[[Run], None] | None = None
    long_queue: bool = False
    slow_one: bool = False


def _delete_helpers(run: Run) -> None:
    # What is in a deleted queue is gone with it (an operator's doing, not vincent's):
    # delete them once the poison messages sent so far are all dead letters, taken.
    asyncio.run(_until_every_message_ended(run))
    run.ctl("delete_queue", run.dead)
    run.ctl("delete_queue", f"{run.queue}.retry")


def _cap_dead(run: Run) -> None:
    policy = json.dumps({"max-length": 0, "overflow": "reject-publish"})
    run.ctl(
        "set_policy", f"cap-{run.dead}", f"^{re.escape(run.dead)}$", policy, "--apply-to", "queues"
    )


def _uncap_dead(run: Run) -> None:
    time.sleep(1.0)  # poison messages meet the cap for a while, parked meanwhile
    run.ctl("clear_policy", f"cap-{run.dead}")


def _signal(signum: int) -> Callable[[Run], None]:
    def fault(run: Run) -> None:
        victim = run.workers[0]
        victim.signal(signum)
        victim.wait(30)
        victim.stop()
        run.start_worker()

    return fault


def _restart_broker(run: Run) -> None:
    run.node.stop_app()
    run.node.start_app()


def _short_consumer_timeout(run: Run) -> None:
    run.ctl(
        "eval",
        "application:set_env(rabbit, consumer_timeout, 1000), "
        "application:set_env(rabbit, channel_tick_interval, 500).",
    )


def _usual_consumer_timeout(run: Run) -> None:
    run.ctl("eval", "application:set_env(rabbit, consumer_timeout, 1800000).")


ROWS = [
    Row("no fault"),
    Row("helper queues deleted", fault=_delete_helpers),
    Row("dead-letter queue capped (reject-publish)", before=_cap_dead, fault=_uncap_dead),
    Row("hostile foreign headers", publisher="foreign"),
    Row("another user's validated user_id", publisher="user"),
    Row("100 KB errors and reject reasons", poison="huge"),
    Row("exceptions whose str() raises", poison="unprintable"),
    Row("250-byte queue name", long_queue=True),
    Row("SIGKILL of the worker", fault=_signal(signal.SIGKILL), duplicates=True),
    Row("SIGTERM of the worker", fault=_signal(signal.SIGTERM)),
    Row("broker restart", fault=_restart_broker, duplicates=True),
    Row(
        "channel closed by the broker (consumer_timeout)",
        before=_short_consumer_timeout,
        after=_usual_consumer_timeout,
        slow_one=True,
        duplicates=True,
    ),
]


def _body(run: Run, row: Row, n: int) -> dict[str, Any]:
    body: dict[str, Any] = {"n": n}
    if n % 6 == 1 and n % 10 != 3:
        run.poison.add(n)
        body["fail"] = "reject" if row.poison == "huge" and n % 12 == 7 else row.poison
    elif n % 10 == 3:
        run.stale.add(n)
    else:
        run.good.add(n)
    if row.slow_one and n == 4:
        body["slow"] = 3.0  # past the 1 s consumer_timeout: the broker closes the channel
    return body


def _headers(run: Run, n: int) -> dict[str, Any]:
    return {DEADLINE_HEADER: now_ms() - 60_000} if n in run.stale else {}


async def _publish_with_vincent(run: Run, row: Row, numbers: range) -> None:
    async with Client(run.node.url, exchange=run.exchange) as client:
        for n in numbers:
            envelope = build_cast(run.exchange, run.key, _body(run, row, n))
            envelope.headers.update(_headers(run, n))
            envelope.message_id = f"m{n}"
            await client.publish(envelope, mandatory=True)


def _publish(run: Run, row: Row, numbers: range) -> None:
    if row.publisher == "vincent":
        asyncio.run(_publish_with_vincent(run, row, numbers))
    else:
        _publish_foreign(run, row, numbers)


def _publish_foreign(run: Run, row: Row, numbers: range) -> None:
    url = run.node.url
    extra: dict[str, Any] = {}
    if row.publisher == "user":
        url = url.replace("guest:guest@", f"{USER}:{PASSWORD}@")
        extra["user_id"] = USER
    messages = []
    for n in numbers:
        body = json.dumps(_body(run, row, n)).encode()
        headers = dict(HOSTILE_HEADERS) if row.publisher == "foreign" else {}
        headers.update(_headers(run, n))
        props = {"message_id": f"m{n}", "content_type": "application/json", **extra}
        messages.append((run.key, body, headers, props))
    foreign_publish_many(url, run.exchange, messages)


async def _take_dead(client: Client, queue: str, taken: list[dict[str, Any]]) -> None:
    """Take and ack every dead letter there is, into ``taken`` (body and headers)."""
    if await client.queue_info(queue) is None:
        return
    while (delivery := await client.take(queue)) is not None:
        taken.append({"body": json.loads(delivery.envelope.body), **delivery.envelope.headers})
        await delivery.ack()


def _expired(run: Run) -> set[int]:
    found: set[int] = set()
    for log in run.sink.parent.glob("*.log"):
        if log == run.sink:
            continue
        for match in re.finditer(r"message m(\d+) dropped: its deadline passed", log.read_text()):
            found.add(int(match.group(1)))
    return found


async def _until_every_message_ended(run: Run, timeout: float = 60.0) -> None:
    async with Client(run.node.url) as client:

        async def every_message_ended() -> bool:
            with contextlib.suppress(VincentError):  # being declared again: next round
                await _take_dead(client, run.dead, run.dead_letters)
            dead = {d["body"]["n"] for d in run.dead_letters}
            return (
                run.good <= set(handled(run.sink))
                and dead >= run.poison
                and _expired(run) >= run.stale
            )

        await eventually_async(
            every_message_ended, timeout, what=lambda: "not every message ended in time"
        )


async def _stuck(run: Run) -> int:
    """Messages left in the listener's queue and its retry queue (no consumer is left:
    unacked ones are back among the ready ones)."""
    async with Client(run.node.url) as client:
        stuck = 0
        for name in (run.queue, retry_queue_name(run.queue)):
            info = await client.queue_info(name)
            stuck += info.messages if info is not None else 0
        return stuck


def _queue_name(key: str) -> str:
    return (key + ".q" + "q" * 255)[:250]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault_matrix(node: RabbitNode, row: Row, ns: Callable[[str], str], tmp_path: Path) -> None:
    key = ns("matrix")
    queue = _queue_name(key) if row.long_queue else key
    env = {
        "SINK_DEAD": ns("dead"),
        "SINK_RETRIES": "1",
        "SINK_LOG": "INFO",
        "SINK_CONCURRENCY": "4",
        "SINK_DELAY": "0.02",
        "SINK_GRACE": "10",
    }
    if row.long_queue:
        env["SINK_QUEUE"] = queue
    run = Run(node, ns("x"), key, queue, ns("dead"), tmp_path / "sink.log", env)
    if row.before is not None:
        row.before(run)
    try:
        run.start_worker()
        _publish(run, row, range(SENT // 2))
        if row.fault is not None:
            wait_until(lambda: len(set(handled(run.sink)) & run.good) >= len(run.good) // 3, 60)
            row.fault(run)
        _publish(run, row, range(SENT // 2, SENT))
        asyncio.run(_until_every_message_ended(run))
        last = run.workers[-1]
        last.signal(signal.SIGTERM)
        assert last.wait(30) == 0
    finally:
        for worker in run.workers:
            worker.stop()
        if row.after is not None:
            row.after(run)
    dead = run.dead_letters
    counts = handled(run.sink)
    dead_counts = Counter(d["body"]["n"] for d in dead)
    ended = {
        "handled": set(counts),
        "dead-lettered": set(dead_counts),
        "expired": _expired(run),
    }
    sent = set(range(SENT))
    places = Counter(n for where in ended.values() for n in where)
    lost = sent - set(places)
    twice = {n for n, c in places.items() if c > 1}
    stuck = asyncio.run(_stuck(run))
    duplicates = sum(c - 1 for c in counts.values()) + sum(c - 1 for c in dead_counts.values())
    print(
        f"\nMATRIX | {row.name} | {len(sent)} | {len(ended['handled'])} | "
        f"{len(ended['dead-lettered'])} | {len(ended['expired'])} | {len(lost)} | {stuck} | "
        f"{duplicates} |"
    )
    assert not lost, f"lost: {sorted(lost)}"
    assert not twice, f"ended in two places: {sorted(twice)}"
    assert stuck == 0
    assert ended["handled"] == run.good
    assert ended["dead-lettered"] == run.poison
    assert ended["expired"] == run.stale
    assert len(sent) == sum(len(where) for where in ended.values())
    if not row.duplicates:
        assert duplicates == 0
    if row.publisher == "foreign":
        for letter in dead:
            assert {name: letter[name] for name in HOSTILE_HEADERS} == {
                "raw": b"\xff\xfe",
                "big": 1e300,
                "tenth": 0.1,
                "blob": bytearray(b"\x00\x01"),
                "deep": {"list": [0.5, b"\x80"]},
            }
    if row.publisher == "user":
        assert all(letter["x-vincent-original-user"] == USER for letter in dead)
