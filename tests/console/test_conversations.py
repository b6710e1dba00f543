"""The console's ``tail`` with replies (the firehose), and ``ls`` / ``desc KEY``.

On memory:// (``vincent dev``) through the in-process broker's publish hook; on RabbitMQ
with tracing on (``rabbitmqctl trace_on``) and off.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from examples.files import app as files_app

from tests.console.conftest import StartConsole
from tests.console.test_live import echo_app
from tests.fixtures.rabbit import RabbitNode
from vincent_cli.console.conversations import OFF_NOTE
from vincent_core.client import Client


async def test_dev_shows_the_reply_of_a_nested_call_under_it(
    start_console: StartConsole, ns: Callable[[str], str]
) -> None:
    url = f"memory://{ns('dev')}"
    console = await start_console(url=url, app=files_app, app_ref="examples.files:app", dev=True)
    await console.expect(r"1 .* ← cast server\.up")
    mark = len(console.output())
    await console.run("call file.encrypt file=hello.txt key_id:=1", r'#\d+ ok[\s\S]*"sha256"')
    # file.get, called by file.encrypt's handler: its reply one step in, under the call
    text = await console.expect(r"\n {7}↳ #(\d+) ok [\d.]+ ms <36 bytes", since=mark)
    number = re.search(r"↳ #(\d+) ok", text)
    assert number is not None
    entry = console.session.history.get(int(number.group(1)))
    assert entry is not None and entry.key == "file.get" and entry.reply is not None
    # show N: both halves
    shown = await console.run(f"show {number.group(1)}", r"reply [\d.]+ ms[\s\S]*body \(36 bytes\)")
    assert "x-vincent-status" in shown
    # the console's own call is answered by the console itself, not twice
    assert len(re.findall(r"↳ #\d+ ok", console.output(mark))) == 1
    # replay N: a traced call goes again as a call, and its reply shows
    await console.run(f"replay {number.group(1)}", r"#\d+ ok [\s\S]*<36 bytes")
    assert await console.close() == 0


async def test_dev_ls_and_desc_need_no_broker_features(
    start_console: StartConsole, ns: Callable[[str], str]
) -> None:
    url = f"memory://{ns('dev')}"
    console = await start_console(url=url, app=files_app, app_ref="examples.files:app", dev=True)
    text = await console.run("ls", r"file\.get")
    assert re.search(
        r"file\.encrypt +file\.encrypt\.queue +0 +1 +this process +examples\.files\.encrypt", text
    )
    assert "vincent.tap." not in text  # the console's own tap is not a service
    text = await console.run("ls 'file.e*'", r"file\.encrypt")
    assert "file.get" not in text
    text = await console.run("desc file.get", r"handler +examples\.files\.get")
    assert "route_to" in text and "retries" in text
    await console.run("desc no.such.key", r"nothing serves 'no\.such\.key'")
    # what ls found completes desc
    assert "file.encrypted" in console.session.known_keys()
    assert await console.close() == 0


async def test_tail_without_tracing_says_once_how_to_turn_it_on(
    start_console: StartConsole, ns: Callable[[str], str]
) -> None:
    console = await start_console()
    await console.run(f"tail {ns('a')}", "tracing is off")
    mark = console.line(f"tail {ns('b')}")
    await console.expect(f"tapping {ns('b')}", since=mark)
    assert console.output().count(OFF_NOTE) == 1
    assert await console.close() == 0


@pytest.mark.rabbitmq
async def test_tail_with_tracing_on_pairs_a_call_from_another_client(
    start_console: StartConsole,
    rabbit_node: RabbitNode,
    broker_url: str,
    exchange: str,
    ns: Callable[[str], str],
) -> None:
    rabbit_node.rabbitmqctl("trace_on")
    try:
        app = echo_app(broker_url, exchange, ns("echo"))
        async with app.running(url=broker_url, exchange=exchange):
            console = await start_console()
            await console.run(f"tail {ns('#')}", f"tapping {ns('#')}")
            commands = console.commands
            assert commands is not None
            await console.until(lambda: commands.tracer.on is not None)
            assert commands.tracer.on and "tracing is off" not in console.output()
            async with Client(broker_url, exchange=exchange) as client:
                await client.call(ns("echo"), {"n": 1}, timeout=10)
            text = await console.expect(r"↳ #1 ok [\d.]+ ms \{\"n\":1\}")
            assert re.search(rf"1 .* ← call {re.escape(ns('echo'))}", text)
            entry = console.session.history.get(1)
            assert entry is not None and entry.outcome == "ok" and entry.reply is not None
            await console.run("history", r"1 .* ok")
            assert await console.close() == 0
    finally:
        rabbit_node.rabbitmqctl("trace_off")
