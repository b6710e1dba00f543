"""The transport at the edges an operator meets: alarms, frozen brokers, outages, refusals.

Each test stages one observation of issue 12 on a private node and checks the bound the
contract (section 6.2) promises.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.helpers import Cli, cli_env
from tests.poll import eventually, eventually_async, wait_until
from vincent_core import (
    CallTimeout,
    Client,
    ConnectionFailed,
    ConnectionLost,
    Message,
    MessageTooLarge,
    PublishFailed,
    SyncClient,
    Vincent,
)

pytestmark = [pytest.mark.rabbitmq]


@contextlib.contextmanager
def frozen(node: Any) -> Iterator[None]:
    """The node's whole process group stopped (SIGSTOP), resumed whatever happens."""
    os.killpg(node.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(node.pid, signal.SIGCONT)


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


# -- 1. a memory alarm must not stall consuming and acking ------------------------------


async def test_a_memory_alarm_does_not_stall_consumers_or_their_acks(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    url = fresh_rabbit_node.url
    handled: list[int] = []
    app = Vincent(url, exchange=exchange)

    @app.listen(ns("publishes"))
    async def publishes(msg: Message) -> None:
        # Publishing under an alarm blocks this process's publishing connection.
        with contextlib.suppress(PublishFailed):
            await msg.cast(ns("elsewhere"), {"n": 1}, timeout=1)

    @app.listen(ns("sink"))
    async def sink(msg: Message) -> None:
        handled.append(msg.body["n"])

    async with app.running(grace=1):
        pass  # declares the queues and their bindings
    async with Client(url, exchange=exchange) as client:
        for n in range(40):
            await client.cast(ns("sink"), {"n": n})
        await client.cast(ns("publishes"), {})
    await asyncio.to_thread(
        fresh_rabbit_node.rabbitmqctl, "set_vm_memory_high_watermark", "absolute", "10MB"
    )
    try:
        loop = asyncio.get_running_loop()
        async with app.running(grace=2) as client:
            await eventually(lambda: app.client.transport.blocked, timeout=15)  # type: ignore[union-attr]
            await eventually(lambda: len(handled) == 40, timeout=10)
            stopping = loop.time()
        assert loop.time() - stopping < 2 + 5
        async with Client(url, exchange=exchange) as client:
            info = await client.queue_info(ns("sink"))
        assert info is not None and info.messages == 0, "every ack reached the broker"
    finally:
        await asyncio.to_thread(
            fresh_rabbit_node.rabbitmqctl, "set_vm_memory_high_watermark", "0.4"
        )


# -- 2. a stop's grace counts from the signal, whatever the broker does ----------------


def test_serve_exits_within_grace_plus_five_seconds_when_the_broker_is_frozen(
    fresh_rabbit_node: Any, exchange: str
) -> None:
    cli = Cli(cli_env(fresh_rabbit_node.url, exchange))
    try:
        proc = cli.serve("echo", "--grace", "2")
        with frozen(fresh_rabbit_node):
            started = time.monotonic()
            proc.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.process.wait(15)
            elapsed = time.monotonic() - started
        assert proc.process.poll() is not None, "still running 15 s after SIGTERM"
        assert elapsed < 2 + 5, elapsed
    finally:
        cli.stop_all()


# -- 3, 4. the first call during an outage ----------------------------------------------


async def test_the_first_call_during_an_outage_times_out_on_time_and_later_calls_work(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    url = fresh_rabbit_node.url
    app = Vincent(url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> Any:
        return msg.body

    loop = asyncio.get_running_loop()
    async with app.running(grace=1), Client(url, exchange=exchange) as client:
        await asyncio.to_thread(fresh_rabbit_node.stop_app)
        try:
            started = loop.time()
            with pytest.raises((CallTimeout, ConnectionLost)):
                await client.call(ns("echo"), {"n": 1}, timeout=2)
            assert loop.time() - started < 2 + 0.5
        finally:
            await asyncio.to_thread(fresh_rabbit_node.start_app)

        async def calls_work() -> bool:
            try:
                return bool(await client.call(ns("echo"), {"n": 2}, timeout=2) == {"n": 2})
            except (CallTimeout, ConnectionLost, PublishFailed):
                return False

        await eventually_async(calls_work, 30, what=lambda: "calls never worked again")


async def test_a_call_times_out_on_time_when_nobody_consumes(broker_url: str, ns: Any) -> None:
    async with Client(broker_url, exchange="") as client:
        from vincent_core.transport.base import QueueSpec

        await client.transport.declare_queue(QueueSpec(ns("nobody"), durable=False))
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(CallTimeout) as caught:
            await client.call(ns("nobody"), {}, timeout=1)
        assert loop.time() - started < 1 + 0.5
        assert "no consumers" in str(caught.value)


# -- 5. the handshake is bounded -------------------------------------------------------


async def test_connecting_to_an_endpoint_that_never_speaks_amqp_gives_up(tmp_path: Any) -> None:
    with silent_listener() as port:
        url = f"amqp://guest:guest@127.0.0.1:{port}/"
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ConnectionFailed, match="no AMQP handshake"):
            await Client(url, exchange="", connect_timeout=1).connect()
        assert loop.time() - started < 1 + 0.5


def test_vincent_call_against_a_silent_endpoint_exits_within_its_timeout(exchange: str) -> None:
    with silent_listener() as port:
        cli = Cli(cli_env(f"amqp://guest:guest@127.0.0.1:{port}/", exchange))
        started = time.monotonic()
        result = cli.run("call", "some.key", "--timeout", "2", timeout=30)
        assert time.monotonic() - started < 2 + 2  # + the interpreter's start
        assert result.code in (3, 5), result.stderr


def test_the_connect_timeout_option_bounds_the_handshake(exchange: str) -> None:
    with silent_listener() as port:
        cli = Cli(cli_env(f"amqp://guest:guest@127.0.0.1:{port}/", exchange))
        started = time.monotonic()
        result = cli.run("--connect-timeout", "1", "listen", "k", "--timeout", "30", timeout=30)
        assert time.monotonic() - started < 1 + 2
        assert result.code == 5, result.stderr
        assert "no AMQP handshake" in result.stderr


# -- 6. unknown vhost, access refused --------------------------------------------------


async def test_an_unknown_vhost_is_a_one_line_connection_failure(rabbit_node: Any) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{rabbit_node.amqp_port}/novhost"
    with pytest.raises(ConnectionFailed) as caught:
        await Client(url, exchange="").connect()
    text = str(caught.value)
    assert "novhost" in text and "guest" in text and "\n" not in text
    assert caught.value.reply_code == 530


async def test_a_user_without_access_to_the_vhost_is_told_so(rabbit_node: Any, ns: Any) -> None:
    user = ns("nobody").replace(".", "-")
    rabbit_node.rabbitmqctl("add_user", user, "secret")
    url = f"amqp://{user}:secret@127.0.0.1:{rabbit_node.amqp_port}/"
    with pytest.raises(ConnectionFailed) as caught:
        await Client(url, exchange="").connect()
    text = str(caught.value)
    assert user in text and "vhost '/'" in text and "secret" not in text
    assert caught.value.reply_code in (403, 530)


def test_vincent_exits_5_with_one_line_for_an_unknown_vhost(
    rabbit_node: Any, exchange: str
) -> None:
    cli = Cli(cli_env(f"amqp://guest:guest@127.0.0.1:{rabbit_node.amqp_port}/novhost", exchange))
    for args in (("call", "a.key", "--timeout", "3"), ("serve", "tests.cli.apps.echo:app")):
        result = cli.run(*args, timeout=30)
        assert result.code == 5, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) <= 2 and "novhost" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


# -- 7. refused and oversized publishes ------------------------------------------------


async def test_a_publish_the_broker_refuses_raises_publish_failed(
    fresh_rabbit_node: Any, ns: Any
) -> None:
    fresh_rabbit_node.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 65536).")
    async with Client(fresh_rabbit_node.url, exchange="") as client:
        from vincent_core.transport.base import QueueSpec

        await client.transport.declare_queue(QueueSpec(ns("big"), durable=False))
        with pytest.raises(PublishFailed) as caught:
            await client.cast(ns("big"), {"blob": "x" * 100_000}, timeout=5)
        assert caught.value.reply_code == 406
        # The connection lives on: the next publish works.
        await client.cast(ns("big"), {"small": True}, timeout=5)


def test_vincent_exits_1_when_the_broker_refuses_the_publish(
    fresh_rabbit_node: Any, exchange: str, tmp_path: Any
) -> None:
    fresh_rabbit_node.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 65536).")
    body = tmp_path / "body.json"
    body.write_text('{"blob": "' + "x" * 100_000 + '"}')
    url = fresh_rabbit_node.url
    # One URL takes the one-shot path, two the async client: the same cause, the same code.
    for broker in (url, f"{url},{url}"):
        cli = Cli(cli_env(broker, exchange))
        for command, *options in (("cast",), ("call", "--timeout", "3")):
            result = cli.run(command, "a.key", f"@{body}", *options, timeout=30)
            assert result.code == 1, (broker, command, result.stderr)
            assert "refused" in result.stderr


def test_vincent_refuses_a_body_over_16_mib_before_sending(
    broker_url: str, exchange: str, tmp_path: Any
) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"blob": "' + "x" * (16 * 1024 * 1024) + '"}')
    for broker in (broker_url, f"{broker_url},{broker_url}"):
        cli = Cli(cli_env(broker, exchange))
        for command in ("cast", "call"):
            result = cli.run(command, "a.key", f"@{body}", timeout=60)
            assert result.code == 2, (broker, command, result.stderr)
            assert "over the limit" in result.stderr


def test_the_one_shot_path_bounds_connect_and_handshake_once(exchange: str) -> None:
    with silent_listener() as port:
        cli = Cli(cli_env(f"amqp://guest:guest@127.0.0.1:{port}/", exchange))
        for command in ("cast", "call"):
            started = time.monotonic()
            result = cli.run(command, "k", VINCENT_CONNECT_TIMEOUT="1", timeout=30)
            assert time.monotonic() - started < 1 + 2, command  # not twice: no fallback
            assert result.code == 5, result.stderr
            assert "no AMQP handshake within 1s" in result.stderr


async def test_a_body_over_max_body_is_refused_before_sending(broker_url: str, ns: Any) -> None:
    async with Client(broker_url, exchange="", max_body=1024) as client:
        with pytest.raises(MessageTooLarge):
            await client.cast(ns("q"), {"blob": "x" * 2000})
        with pytest.raises(MessageTooLarge):
            await client.call(ns("q"), {"blob": "x" * 2000}, timeout=1)


# -- 8. fork ---------------------------------------------------------------------------


def test_a_sync_client_created_before_fork_works_in_the_child(broker_url: str, ns: Any) -> None:
    client = SyncClient(broker_url, exchange="")
    try:
        client.cast(ns("nothing.bound"), {"parent": True})
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, never return into pytest
            code = 1
            try:
                signal.alarm(20)
                client.cast(ns("nothing.bound"), {"child": True}, timeout=5)
                os.write(writer, b"ok")
                code = 0
            except BaseException as exc:
                os.write(writer, f"{type(exc).__name__}: {exc}".encode())
            finally:
                os._exit(code)
        os.close(writer)
        done = False
        try:
            wait_until(lambda: os.waitpid(pid, os.WNOHANG)[0] != 0, 15, what=lambda: "it hung")
            done = True  # and reaped
            said = os.read(reader, 4096).decode()
        finally:
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                if not done:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            os.close(reader)
        assert said == "ok", said
        # The parent's client is untouched.
        client.cast(ns("nothing.bound"), {"parent": "again"})
    finally:
        client.close()


# -- 9. close leaves nothing registered ------------------------------------------------


async def test_closed_clients_leave_nothing_on_the_shared_transport(
    broker_url: str, exchange: str, ns: Any
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> Any:
        return msg.body

    async with app.running(grace=1) as keeper:
        transport = keeper.transport
        before = transport.registrations()
        for n in range(30):
            async with Client(broker_url, exchange=exchange) as client:
                assert client.transport is transport
                assert await client.call(ns("echo"), {"n": n}, timeout=5) == {"n": n}
        assert transport.registrations() == before


# -- the two connections, each on its own ----------------------------------------------


def _close_connections_named(node: Any, name: str) -> int:
    listed = node.rabbitmqctl(
        "list_connections", "--quiet", "--no-table-headers", "pid", "client_properties"
    )
    pids = [line.split("\t", 1)[0] for line in listed.splitlines() if name in line]
    assert pids, listed
    for pid in pids:
        node.rabbitmqctl("close_connection", pid, "closed by the test")
    return len(pids)


async def test_losing_the_consuming_connection_alone_restores_the_consumers(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    url = fresh_rabbit_node.url
    app = Vincent(url, exchange=exchange)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> Any:
        return msg.body

    async with app.running(grace=1) as client:
        assert await client.call(ns("echo"), 1, timeout=5) == 1
        transport = client.transport
        states: list[str] = []
        transport.add_state_listener(states.append)
        closed = await asyncio.to_thread(
            _close_connections_named, fresh_rabbit_node, "vincent consume"
        )
        assert closed == 1
        await eventually(lambda: "reconnecting" in states and transport.state == "connected")
        # The publishing connection never dropped: its reply consumer is the same one,
        # and the restored consumer answers.
        assert await client.call(ns("echo"), 2, timeout=10) == 2
        transport.remove_state_listener(states.append)
