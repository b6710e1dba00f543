"""A broker resource alarm, as an operator meets it: `vincent health` says so, and a
worker's reply that cannot be published does not hold its request forever.

Each test raises a real memory alarm on a node of its own
(``rabbitmqctl set_vm_memory_high_watermark absolute 10MB``), lifted in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.helpers import Cli, cli_env
from tests.poll import eventually
from vincent_core import Client, Message, Vincent

pytestmark = [pytest.mark.rabbitmq]

ECHO = "tests.cli.apps.echo:app"
#: the worker's bound on a reply's confirm in these tests
COPY_TIMEOUT = 3.0


def alarm_on(node: Any) -> None:
    """A memory alarm: the broker blocks every connection that publishes."""
    node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "10MB")


def alarm_off(node: Any) -> None:
    node.rabbitmqctl("set_vm_memory_high_watermark", "0.4")


@contextlib.contextmanager
def memory_alarm(node: Any) -> Iterator[None]:
    """A memory alarm on ``node``, lifted whatever happens."""
    alarm_on(node)
    try:
        yield
    finally:
        alarm_off(node)


# -- vincent health -----------------------------------------------------------------------


def test_health_reports_a_broker_that_blocks_publishing(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    cli = Cli(cli_env(fresh_rabbit_node.url, exchange))
    prefix = ns()
    try:
        cli.serve("echo", CLI_PREFIX=prefix)
        assert cli.run("health", ECHO, CLI_PREFIX=prefix).code == 0
        with memory_alarm(fresh_rabbit_node):
            started = time.monotonic()
            blocked = cli.run("health", ECHO, "--timeout", "2", CLI_PREFIX=prefix)
            assert time.monotonic() - started < 2 + 5 + 3  # the check, closing, start-up
            assert blocked.code == 6, blocked.stderr
            assert blocked.stderr.count("\n") == 1, blocked.stderr
            assert blocked.stderr.startswith("vincent: error: unhealthy: ")
            assert "blocks publishing" in blocked.stderr
            assert "Traceback" not in blocked.stderr

            # A readiness probe of a process that serves without publishing may accept it.
            allowed = cli.run("health", ECHO, "--allow-blocked", CLI_PREFIX=prefix)
            assert allowed.code == 0, allowed.stderr
            (report,) = allowed.lines
            assert report["healthy"] is True
            assert report["blocked"] is True
            assert {q["name"] for q in report["queues"]} >= {f"{prefix}.echo"}

            terminal = cli.in_terminal("health", "--allow-blocked").finish()
            assert terminal.code == 0
            text = terminal.stdout.decode().strip()
            assert text.startswith("blocked: amqp://guest:***@127.0.0.1:"), text
            assert "blocks publishing" in text

        # The alarm lifted: healthy again.
        healthy = cli.run("health", ECHO, CLI_PREFIX=prefix)
        assert healthy.code == 0, healthy.stderr
        assert healthy.lines[0]["blocked"] is False
    finally:
        cli.stop_all()


# -- a worker's reply under an alarm ------------------------------------------------------


async def test_a_reply_the_alarm_holds_back_sends_its_request_back_within_the_bound(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    url = fresh_rabbit_node.url
    app = Vincent(url, exchange=exchange, copy_timeout=COPY_TIMEOUT)
    gate = asyncio.Event()
    runs: list[bool] = []  # msg.redelivered of each run

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> Any:
        runs.append(msg.redelivered)
        await gate.wait()
        return msg.body

    loop = asyncio.get_running_loop()
    async with app.running(grace=2):
        async with Client(url, exchange=exchange) as caller:
            call = asyncio.ensure_future(caller.call(ns("echo"), {"n": 1}, timeout=60))
            await eventually(lambda: len(runs) == 1)
            await asyncio.to_thread(alarm_on, fresh_rabbit_node)
            try:
                returned = loop.time()
                gate.set()  # the handler returns; its reply cannot be published
                await eventually(lambda: app.client.transport.blocked, timeout=10)  # type: ignore[union-attr]
                # The request is not held while the alarm lasts: within the bound it is
                # back in its queue, and the broker hands it out again.
                await eventually(lambda: len(runs) == 2, timeout=COPY_TIMEOUT + 10)
                assert loop.time() - returned < COPY_TIMEOUT + 2
            finally:
                await asyncio.to_thread(alarm_off, fresh_rabbit_node)
            # Nothing lost: the caller gets its answer once the alarm is gone.
            assert await asyncio.wait_for(call, 30) == {"n": 1}
    # Every run after the first is the broker's redelivery of the one request: no copy
    # of it was published meanwhile (a parked copy would have slipped through later).
    assert runs[0] is False and all(runs[1:]), runs
    async with Client(url, exchange=exchange) as client:
        info = await client.queue_info(ns("echo"))
    assert info is not None and info.messages == 0


# -- a call's reply ends the wait for its request's confirm -----------------------------


async def test_an_answered_request_stops_waiting_for_its_confirm(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    # A reply proves the request was routed and handled; its confirm comes after the
    # reply (the worker acks the request once its reply is confirmed), so a call does
    # not wait for it. Staged with an alarm, which holds every confirm back.
    from vincent_core.transport import create
    from vincent_core.transport.base import QueueSpec
    from vincent_core.wire.envelope import build_cast

    transport = create(fresh_rabbit_node.url)
    await transport.connect()
    queue = ns("held")
    try:
        await transport.declare_exchange(exchange)
        await transport.declare_queue(QueueSpec(queue))
        await transport.bind(queue, exchange, queue)
        await asyncio.to_thread(alarm_on, fresh_rabbit_node)
        try:
            held = asyncio.ensure_future(
                transport.publish(build_cast(exchange, queue, {"n": 0}), timeout=60)
            )
            await eventually(lambda: getattr(transport, "blocked", False), timeout=10)
            answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            request = build_cast(exchange, queue, {"n": 1})
            publish = asyncio.ensure_future(
                transport.publish(request, mandatory=True, timeout=60, answered=answered)
            )
            done, _ = await asyncio.wait({publish, held}, timeout=0.5)
            assert not done, "the broker confirmed during an alarm"
            answered.set_result("the reply")
            await asyncio.wait_for(publish, 5)  # returns at once: no PublishFailed
            assert not held.done()  # what no reply answered still waits for its confirm
        finally:
            await asyncio.to_thread(alarm_off, fresh_rabbit_node)
        await asyncio.wait_for(held, 30)
    finally:
        await transport.close()
