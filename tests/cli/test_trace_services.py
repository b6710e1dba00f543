"""`vincent trace` and `vincent services` on a private node with the management plugin.

The node's default vhost has tracing on (`rabbitmqctl trace_on`); vhost ``untraced``
has it off. One ``vincent serve`` of tests/cli/apps/traced.py serves the whole module.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Cli, Proc, cli_env
from tests.fixtures.rabbit import RabbitNode
from vincent_core.client import Client
from vincent_core.transport.base import QueueSpec

pytestmark = pytest.mark.rabbitmq

PREFIX = f"tr{uuid.uuid4().hex[:6]}"
EXCHANGE = f"{PREFIX}.x"
TRACE_KEYS: dict[str, type | tuple[type, ...]] = {
    "ts": str,
    "kind": str,
    "key": str,
    "status": str,
    "latency_ms": (float, int, type(None)),
    "correlation_id": (str, type(None)),
    "trace_id": (str, type(None)),
    "request": dict,
    "reply": (dict, type(None)),
}
RECORD_KEYS = {"ts", "exchange", "key", "headers", "properties"}


def api(node: RabbitNode, method: str, path: str, document: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.management_port}{path}",
        data=None if document is None else json.dumps(document).encode(),
        method=method,
    )
    request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def add_vhost(node: RabbitNode, name: str) -> str:
    api(node, "PUT", f"/api/vhosts/{name}", {})
    api(
        node,
        "PUT",
        f"/api/permissions/{name}/guest",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )
    return f"amqp://guest:guest@127.0.0.1:{node.amqp_port}/{name}"


@pytest.fixture(scope="module")
def node(mgmt_node: RabbitNode) -> RabbitNode:
    return mgmt_node


@pytest.fixture(scope="module")
def served(node: RabbitNode) -> Iterator[Cli]:
    runner = Cli({**cli_env(node.url, EXCHANGE), "CLI_PREFIX": PREFIX})
    runner.serve("traced")
    yield runner
    runner.stop_all()


@pytest.fixture
def tcli(served: Cli) -> Iterator[Cli]:
    runner = Cli(dict(served.env))
    yield runner
    runner.stop_all()


def start_trace(cli: Cli, *args: str) -> Proc:
    proc = cli.start("trace", f"{PREFIX}.#", "--timeout", "30", *args)
    proc.stderr.wait_for(lambda line: line.startswith(b"tracing exchange"))
    return proc


def check_shape(document: dict[str, Any]) -> None:
    """The contract's JSON shape (CONTRACT.md 6.4)."""
    for name, kind in TRACE_KEYS.items():
        assert isinstance(document[name], kind), (name, document[name])
    assert document["kind"] in ("call", "cast")
    assert document["status"] in ("ok", "error", "timeout", "cast")
    for record in (document["request"], document["reply"]):
        if record is not None:
            assert set(record) >= RECORD_KEYS
            assert ("body" in record) or ("body_b64" in record)


def test_a_call_is_paired_with_its_reply_and_latency(tcli: Cli) -> None:
    trace = start_trace(tcli, "--count", "1")
    assert tcli.run("call", f"{PREFIX}.ok", "n:=7").code == 0
    result = trace.finish()
    assert result.code == 0, result.stderr
    (line,) = result.lines
    check_shape(line)
    assert (line["kind"], line["key"], line["status"]) == ("call", f"{PREFIX}.ok", "ok")
    assert 0 < line["latency_ms"] < 10_000
    assert line["request"]["body"] == {"n": 7} and line["reply"]["body"] == {"n": 7}
    assert line["reply"]["properties"]["correlation_id"] == line["correlation_id"]
    assert line["trace_id"] == line["request"]["properties"]["message_id"]


def test_an_error_reply_shows_the_remote_type_and_message(tcli: Cli) -> None:
    trace = start_trace(tcli, "--count", "1")
    assert tcli.run("call", f"{PREFIX}.boom").code == 1
    (line,) = trace.finish().lines
    check_shape(line)
    assert line["status"] == "error"
    assert line["reply"]["body"]["type"] == "ValueError"
    assert line["reply"]["body"]["message"] == "bad input"
    # on a terminal: one line, the error's type and message on it
    terminal = tcli.in_terminal("trace", f"{PREFIX}.boom", "--count", "1", "--timeout", "30")
    terminal.stdout.wait_for(lambda line: b"tracing exchange" in line)
    assert tcli.run("call", f"{PREFIX}.boom").code == 1
    text = terminal.finish().stdout.decode()
    (shown,) = [line for line in text.splitlines() if "←" in line]
    assert f"{PREFIX}.boom" in shown
    assert "error" in shown and "ValueError: bad input" in shown and "ms" in shown
    assert "\x1b[" in shown  # coloured (red) on a terminal


async def test_a_call_nobody_answers_times_out_at_its_expiration(
    node: RabbitNode, tcli: Cli
) -> None:
    key = f"{PREFIX}.unserved"
    async with Client(node.url, exchange=EXCHANGE) as client:
        await client.transport.declare_queue(QueueSpec(key, durable=False, auto_delete=False))
        await client.transport.bind(key, EXCHANGE, key)
        try:
            trace = start_trace(tcli, "--count", "1")
            called = await asyncio.to_thread(tcli.run, "call", "--timeout", "1", key)
            assert called.code == 3
            result = await asyncio.to_thread(trace.finish)
        finally:
            await client.transport.delete_queue(key)
    (line,) = result.lines
    check_shape(line)
    assert (line["status"], line["reply"], line["latency_ms"]) == ("timeout", None, None)
    assert line["request"]["properties"]["expiration"] == "1000"


def test_a_nested_chain_of_three_shares_one_trace(tcli: Cli) -> None:
    trace = start_trace(tcli, "--count", "3")
    assert tcli.run("call", f"{PREFIX}.a", "n:=1").code == 0
    lines = trace.finish().lines
    for line in lines:
        check_shape(line)
    # the innermost finishes first
    assert [line["key"] for line in lines] == [f"{PREFIX}.c", f"{PREFIX}.b", f"{PREFIX}.a"]
    assert [line["chain"] for line in lines] == [
        [f"{PREFIX}.a", f"{PREFIX}.b"],
        [f"{PREFIX}.a"],
        [],
    ]
    assert len({line["trace_id"] for line in lines}) == 1
    assert lines[2]["latency_ms"] >= lines[1]["latency_ms"] >= lines[0]["latency_ms"]


def test_a_cast_shows_the_two_queues_it_reached(tcli: Cli) -> None:
    trace = start_trace(tcli, "--count", "1")
    assert tcli.run("cast", f"{PREFIX}.event", "what=x").code == 0
    (line,) = trace.finish().lines
    check_shape(line)
    assert (line["kind"], line["status"], line["reply"]) == ("cast", "cast", None)
    assert sorted(line["queues"]) == [f"{PREFIX}.event.audit", f"{PREFIX}.event.mail"]


@pytest.mark.parametrize("with_api", [False, True], ids=["probe", "api"])
def test_tracing_off_exits_2_with_how_to_turn_it_on(
    node: RabbitNode, tcli: Cli, with_api: bool
) -> None:
    url = add_vhost(node, "untraced")
    args = ["--api", f"http://127.0.0.1:{node.management_port}"] if with_api else []
    result = tcli.run("--broker", url, "trace", "--timeout", "20", *args)
    assert result.code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "tracing is off on vhost 'untraced'" in line and "rabbitmqctl trace_on" in line


def test_enable_turns_tracing_on_and_disable_on_exit_off(node: RabbitNode, tcli: Cli) -> None:
    url = add_vhost(node, "switched")
    api(node, "PUT", "/api/vhosts/switched", {"description": "keep me", "tracing": False})
    management = f"http://127.0.0.1:{node.management_port}"
    result = tcli.run(
        "--broker", url, "trace", "--enable", "--disable-on-exit", "--api", management,
        "--timeout", "1",
    )  # fmt: skip
    assert result.code == 3, result.stderr  # nothing happened there
    assert "tracing turned on for vhost 'switched'" in result.stderr
    assert "tracing turned off for vhost 'switched'" in result.stderr
    vhost = api(node, "GET", "/api/vhosts/switched")
    assert vhost["tracing"] is False and vhost["description"] == "keep me"
    # without an API to use, --enable is a usage error
    assert tcli.run("trace", "--enable").code == 2


def test_services_lists_bindings_joined_with_the_app(node: RabbitNode, tcli: Cli) -> None:
    management = f"http://127.0.0.1:{node.management_port}"
    app = "tests.cli.apps.traced:app"
    result = tcli.run("services", f"{PREFIX}.*", "--api", management, "--app", app)
    assert result.code == 0, result.stderr
    rows = {(row["key"], row["queue"]): row for row in result.lines}
    ok = rows[(f"{PREFIX}.ok", f"{PREFIX}.ok")]
    assert (ok["consumers"], ok["messages"], ok["hosts"]) == (1, 0, ["127.0.0.1"])
    assert (ok["handler"], ok["route_to"], ok["retries"]) == (
        "tests.cli.apps.traced.ok",
        "one",
        3,
    )
    assert ok["doc"] == "Answer with the body."
    assert "body_schema" in ok and "reply_schema" in ok
    mail = rows[(f"{PREFIX}.event", f"{PREFIX}.event.mail")]
    assert mail["handler"] == "tests.cli.apps.traced.mail"
    assert rows[(f"{PREFIX}.boom", f"{PREFIX}.boom")]["retries"] == 0
    # without --app: the broker's view only; a glob selects
    bare = tcli.run("services", f"{PREFIX}.event", "--api", management)
    assert [(row["queue"], row["handler"]) for row in bare.lines] == [
        (f"{PREFIX}.event.audit", None),
        (f"{PREFIX}.event.mail", None),
    ]
    # on a terminal: a table
    table = tcli.in_terminal("services", f"{PREFIX}.ok", "--api", management, "--app", app)
    text = table.finish().stdout.decode()
    assert "consumers" in text and f"{PREFIX}.ok" in text and "127.0.0.1" in text


def test_services_without_the_api_needs_an_app(tcli: Cli, tmp_path: Path) -> None:
    result = tcli.run("services")
    assert result.code == 2 and "--api" in result.stderr
    looked_up = tcli.run("services", "--app", "tests.cli.apps.traced:app", f"{PREFIX}.ok")
    assert looked_up.code == 0, looked_up.stderr
    (row,) = looked_up.lines
    assert (row["queue"], row["consumers"], row["handler"]) == (
        f"{PREFIX}.ok",
        1,
        "tests.cli.apps.traced.ok",
    )


def test_services_keys_feed_completion_and_give_up_quietly(node: RabbitNode, tcli: Cli) -> None:
    management = f"http://127.0.0.1:{node.management_port}"
    result = tcli.run("services", "--keys", f"{PREFIX}.*", "--api", management)
    assert result.code == 0, result.stderr
    keys = result.stdout.decode().split()
    assert keys == sorted(set(keys)) and f"{PREFIX}.ok" in keys and f"{PREFIX}.event" in keys
    # nothing answers there: nothing printed, no error, and quickly
    silent = tcli.run("services", "--keys", "--api", "http://127.0.0.1:1", timeout=20)
    assert (silent.code, silent.stdout, silent.stderr) == (0, b"", "")
    assert tcli.run("services", "--keys").stdout == b""  # no API configured
