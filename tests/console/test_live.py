"""The console driven through its real prompt, against the private RabbitMQ node."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from prompt_toolkit.formatted_text import fragment_list_to_text

from tests.cli.helpers import Cli, cli_env
from tests.console.conftest import CTRL_C, ESCAPE_ENTER, StartConsole
from vincent_cli import records
from vincent_cli.console.toolbar import prompt_message
from vincent_core import Client, Message, Vincent
from vincent_core.wire.envelope import Envelope

pytestmark = pytest.mark.rabbitmq


def cli(broker_url: str, exchange: str) -> Cli:
    """The real ``vincent`` executable, as another process on the same broker."""
    return Cli(cli_env(broker_url, exchange))


def echo_app(broker_url: str, exchange: str, key: str) -> Vincent:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(key)
    async def echo(msg: Message) -> Any:
        return msg.body

    return app


async def test_the_toolbar_shows_the_masked_broker_and_the_exchange(
    start_console: StartConsole, broker_url: str, exchange: str
) -> None:
    console = await start_console()
    screen = await console.expect("taps: none", drawn=True)
    assert "guest:***@127.0.0.1" in screen and "guest:guest" not in screen
    assert f"/ · {exchange} │ taps: none" in screen
    # The prompt names the exchange (it is not the default one), not the broker.
    prompt = fragment_list_to_text(prompt_message(console.session))
    assert prompt.startswith("vincent:") and prompt.endswith(" › ") and len(prompt) <= 28
    assert prompt.rstrip(" ›") in screen
    assert "● connected" in screen and "seen 0 · sent 0" in screen
    await console.run("tail a.#", "tapping a.#")
    assert "taps: a.#" in console.toolbar()
    tap_queue = console.commands.watch.queue if console.commands else ""
    async with Client(broker_url, exchange=exchange) as client:
        assert await client.queue_info(tap_queue) is not None
        # Ctrl-D leaves cleanly and the tap's queue goes with it.
        assert await console.close() == 0
        assert await client.queue_info(tap_queue) is None


async def test_tail_shows_a_message_cast_by_another_process(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    console = await start_console()
    key = ns("jobs.new")
    await console.run(f"tail {ns('jobs')}.*", "tapping")
    caster = await asyncio.to_thread(
        cli(broker_url, exchange).run,
        "cast",
        key,
        '{"from": "elsewhere"}',
        "n:=7",
        "-H",
        "x-by:cli",
    )
    assert caster.code == 0, caster.stderr
    text = await console.expect(rf"1 .* ← cast {key} ")
    assert '{"from":"elsewhere","n":7}' in text
    assert "seen 1 · sent 0" in console.toolbar()
    await console.run("show 1", r"x-by +cli")


async def test_cast_and_call_from_the_prompt(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    received: asyncio.Queue[Any] = asyncio.Queue()

    @app.listen(ns("note"))
    async def note(msg: Message) -> None:
        await received.put(msg.body)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> Any:
        return {"got": msg.body}

    async with app.running():
        console = await start_console()
        await console.run(f'cast {ns("note")} {{"text": "hi"}} n:=2', rf"1 .* → cast {ns('note')}")
        assert await asyncio.wait_for(received.get(), 10) == {"text": "hi", "n": 2}
        text = await console.run(f"call {ns('echo')} a=1 b:=[1,2]", r"#2 ok \d+ ms")
        assert '"got": {' in text and '"a": "1"' in text
        assert "ok" in text
        text = await console.run("history", r"2 .* → call")
        assert f"→ cast {ns('note')}" in text
        assert '{"got":{"a":"1","b":[1,2]}}' in text
        # Enter inside an open bracket goes on to the next line; the closing one sends.
        mark = len(console.output())
        console.send(f'call {ns("echo")} {{"multi": [1,\r 2],\r "line": true}}\r')
        text = await console.expect(r"#3 ok", since=mark)
        assert f"→ call {ns('echo')} " + '{"multi":[1,2],"line":true}' in text
        await console.expect(r"… +\"line\": true\}", drawn=True)


async def test_nothing_bound_is_reported_as_no_route(
    start_console: StartConsole, ns: Callable[[str], str]
) -> None:
    console = await start_console()
    text = await console.run(f"cast {ns('nobody')}", "no route")
    assert f"nothing is bound to '{ns('nobody')}'" in text
    await console.run(f"call {ns('nobody')}", "no route")
    await console.run("help show", "show N")


def original(exchange: str, key: str) -> Envelope:
    """A message with a body no encoder would write this way, and varied headers."""
    return Envelope(
        exchange,
        key,
        b'{"name": "a",   "count": 1, "tags": [ "x" ]}',
        {"x-custom": "v", "n": 5, "nested": {"k": [1, "two"]}, "flag": True},
        content_type="application/json",
        delivery_mode=2,
        message_id="m-1",
        app_id="elsewhere",
    )


async def test_replay_resends_body_and_headers_byte_for_byte(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    key = ns("orders.placed")
    console = await start_console()
    await console.run(f"tail {key}", "tapping")
    async with Client(broker_url, exchange=exchange) as client:
        async with client.listen(key) as observer:
            await client.publish(original(exchange, key))
            first = await observer.next(10)
            await console.expect(rf"1 .* ← cast {key}")
            await console.run("replay 1", rf"2 .* → cast {key} .*\(from #1\)")
            again = await observer.next(10)
    assert first is not None and again is not None
    assert again.body == first.body == original(exchange, key).body
    assert again.headers == first.headers
    assert again.message_id != first.message_id
    assert (again.content_type, again.delivery_mode, again.app_id) == (
        "application/json",
        2,
        "elsewhere",
    )
    await console.expect(rf"3 .* ← cast {key} .*\(#2\)")


async def test_replay_with_items_changes_only_those_fields(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    key = ns("orders.placed")
    console = await start_console()
    await console.run(f"tail {key}", "tapping")
    async with Client(broker_url, exchange=exchange) as client:
        async with client.listen(key, ns("orders.other")) as observer:
            await client.publish(original(exchange, key))
            first = await observer.next(10)
            await console.expect(rf"1 .* ← cast {key}")
            await console.run('replay 1 name=b count:=2 new:={"deep": [1]}', r"2 .* → cast")
            changed = await observer.next(10)
            await console.run(f"replay 1 --key {ns('orders.other')}", r"→ cast .*other")
            moved = await observer.next(10)
    assert first is not None and changed is not None and moved is not None
    assert orjson.loads(changed.body) == {
        "name": "b",
        "count": 2,
        "tags": ["x"],
        "new": {"deep": [1]},
    }
    assert changed.headers == first.headers
    assert moved.routing_key == ns("orders.other") and moved.body == first.body
    text = await console.run("replay 99", "no message #99")
    assert "history: 1-" in text
    await console.run("replay 1 oops", "not an item")


async def test_a_call_is_replayed_as_a_call(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    key = ns("echo")
    async with echo_app(broker_url, exchange, key).running():
        console = await start_console()
        await console.run(f"call {key} n:=1", r"#1 ok")
        text = await console.run("replay 1 n:=2 --timeout 5", r"#2 ok")
        assert '"n": 2' in text
    first, second = console.session.history.get(1), console.session.history.get(2)
    assert first is not None and second is not None and second.reply is not None
    assert second.source == 1 and second.is_call and second.outcome == "ok"
    assert second.envelope.correlation_id != first.envelope.correlation_id
    assert second.envelope.expiration == "5000"
    same = {k: v for k, v in second.envelope.headers.items() if k != "x-vincent-deadline"}
    assert same == {k: v for k, v in first.envelope.headers.items() if k != "x-vincent-deadline"}


def without_ts(lines: list[bytes]) -> list[dict[str, Any]]:
    """Record lines as objects, without the time each was received."""
    return [{k: v for k, v in orjson.loads(line).items() if k != "ts"} for line in lines]


async def test_save_then_load_round_trips_through_the_record_format(
    start_console: StartConsole,
    broker_url: str,
    exchange: str,
    ns: Callable[[str], str],
    tmp_path,
) -> None:
    key = ns("files.put")
    runner = cli(broker_url, exchange)
    recorded = tmp_path / "recorded.jsonl"
    recorder = runner.start("record", key, "-o", str(recorded), "--count", "3", "--timeout", "60")
    try:
        await asyncio.to_thread(
            recorder.stderr.wait_for, lambda line: line.startswith(b"listening on")
        )
        console = await start_console()
        await console.run(f"tail {key}", "tapping")
        async with Client(broker_url, exchange=exchange) as client:
            await client.publish(original(exchange, key))
            await client.publish(
                Envelope(
                    exchange,
                    key,
                    b"\x00\xffbinary",
                    {"h": b"\x01".decode()},
                    content_type="application/octet-stream",
                )
            )
        await console.expect(r"2 .* ← cast .*<8 bytes, application/octet-stream>")
        await console.run(f'cast {key} {{"n": 1}}', r"3 .* → cast")
        await console.expect(r"4 .* ← cast .*\(#3\)")
        done = await asyncio.to_thread(recorder.finish)
    finally:
        runner.stop_all()
    assert done.code == 0, done.stderr
    saved = tmp_path / "saved.jsonl"
    await console.run(f"save {saved}", r"saved 4 message\(s\) \(#1-#4\)")
    lines = saved.read_bytes().splitlines()
    entries = list(console.session.history)
    # The console's file and `vincent record`'s hold the same lines but for the time of
    # receipt; the message sent from the prompt (#3) is recorded as it went on the wire.
    by_record = without_ts(recorded.read_bytes().splitlines())
    assert len(by_record) == 3
    assert without_ts([lines[0], lines[1], lines[3]]) == by_record
    assert without_ts([lines[2]]) == by_record[2:]
    assert [r.envelope for r in records.read_records(lines, str(saved))] == [
        e.envelope for e in entries
    ]
    await console.run(f"save {tmp_path / 'two.jsonl'} 2-3", r"saved 2 message\(s\) \(#2-#3\)")
    assert (tmp_path / "two.jsonl").read_bytes().splitlines() == lines[1:3]
    # load reads both files back, exact to the byte.
    await console.run(f"load {saved}", r"loaded 4 message\(s\)")
    loaded = list(console.session.history)[4:]
    assert [e.origin for e in loaded] == ["loaded"] * 4
    assert [e.envelope for e in loaded] == [e.envelope for e in entries]
    assert [e.at for e in loaded] == [e.at for e in entries]
    await console.run(f"load {recorded}", r"loaded 3 message\(s\)")
    assert [e.envelope for e in list(console.session.history)[8:]] == [
        entries[0].envelope,
        entries[1].envelope,
        entries[3].envelope,
    ]
    # `vincent replay` sends what the console saved; the tap sees the same bodies.
    replay = await asyncio.to_thread(runner.run, "replay", str(saved))
    assert replay.code == 0, replay.stderr
    await console.until(lambda: console.session.seen == 3 + 4)
    again = list(console.session.history)[11:]
    assert [e.envelope.body for e in again] == [e.envelope.body for e in entries]
    assert [e.envelope.headers for e in again] == [e.envelope.headers for e in entries]
    await console.run(f"load {tmp_path / 'missing.jsonl'}", "cannot read")
    (tmp_path / "bad.jsonl").write_text('{"ts": 1}\n')
    await console.run(f"load {tmp_path / 'bad.jsonl'}", r"bad.jsonl:1: not a record")


async def test_a_remote_error_is_shown_and_the_prompt_still_works(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    app = Vincent(broker_url, exchange=exchange)

    @app.listen(ns("fail"))
    async def fail(msg: Message) -> None:
        raise ValueError(f"no such file: {msg['file']}")

    async with app.running():
        console = await start_console()
        text = await console.run(f"call {ns('fail')} file=/nope", r"raise ValueError.*\n")
        assert re.search(r"#1 error \d+ ms: ValueError: no such file: /nope", text)
        assert "Traceback (most recent call last)" in text
        # Stated once: the traceback's last line would only say it again.
        assert text.count("no such file: /nope") == 1, text
        text = await console.run(f'call {ns("fail")} {{"file": nope}}', r"✗")
        assert "BODY is not valid JSON" in text
        # An open bracket continues on the next line; Ctrl-C drops the whole input.
        console.send(f"call {ns('fail')} {{\r" + '"file":' + CTRL_C)
        await console.run("history", r"1 .* → call .* error .*ValueError: no such file")
        await console.run("show 1", r"reply[\s\S]*x-vincent-status +error")


async def test_ctrl_c_during_a_long_call_returns_to_the_prompt(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    started, release = asyncio.Event(), asyncio.Event()

    @app.listen(ns("slow"))
    async def slow(msg: Message) -> str:
        started.set()
        await release.wait()
        return "late"

    async with app.running():
        console = await start_console()
        console.line(f"call {ns('slow')} --timeout 60")
        await asyncio.wait_for(started.wait(), 20)
        # What the terminal does on Ctrl-C while a command runs (cooked mode): SIGINT.
        os.kill(os.getpid(), signal.SIGINT)
        await console.expect(r"cancelled")
        entry = console.session.history.get(1)
        assert entry is not None and entry.outcome == "cancelled"
        await console.run("help routes", "the --app listeners")
        release.set()
        await console.run(f"call {ns('slow')}", r'#2 ok[\s\S]*"late"')
    assert signal.getsignal(signal.SIGINT) is not None


async def test_ctrl_c_at_the_prompt_drops_the_line(start_console: StartConsole) -> None:
    console = await start_console()
    console.send("cast some.key" + CTRL_C)
    await console.run("history", "no messages yet")
    assert console.session.sent == 0


EDITOR_SCRIPT = """\
import json, sys
path = sys.argv[1]
record = json.load(open(path))
record["body"]["name"] = "edited"
record["headers"]["x-edited"] = "yes"
json.dump(record, open(path, "w"))
"""


async def test_edit_opens_the_message_in_the_editor_and_sends_the_result(
    start_console: StartConsole,
    broker_url: str,
    exchange: str,
    ns: Callable[[str], str],
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    key = ns("orders.placed")
    console = await start_console()
    async with Client(broker_url, exchange=exchange) as client:
        async with client.listen(key) as observer:
            await console.run(f"cast {key} name=first n:=1", r"1 .* → cast")
            first = await observer.next(10)
            await console.run("edit 1", r"2 .* → cast .*\(from #1\)")
            edited = await observer.next(10)
    assert first is not None and edited is not None
    assert orjson.loads(edited.body) == {"name": "edited", "n": 1}
    assert edited.headers == {**first.headers, "x-edited": "yes"}
    assert edited.message_id != first.message_id
    monkeypatch.setenv("EDITOR", f"{sys.executable} -c 'raise SystemExit(3)'")
    await console.run("edit 1", "exited with status 3; nothing sent")
    assert console.session.sent == 2


async def test_edit_without_an_editor_uses_a_multiline_buffer(
    start_console: StartConsole,
    broker_url: str,
    exchange: str,
    ns: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    key = ns("echo")
    async with echo_app(broker_url, exchange, key).running():
        console = await start_console()
        await console.run(f"call {key} word=hello", r"#1 ok")
        console.line("edit 1")
        await console.expect(r"edit ›", drawn=True)
        await console.expect(r'"word": "hello"', drawn=True)
        mark = len(console.output())
        # Sent unchanged, it is not sent (git aborts an unchanged message too).
        console.send(ESCAPE_ENTER)
        await console.expect(r"nothing changed: nothing sent \(replay 1 ", since=mark)
        console.line("edit 1")
        await console.expect(r"edit ›[\s\S]*edit ›", drawn=True)
        mark = len(console.output())
        # Changed: "hello" becomes "hellos" (the cursor starts at the end of the text,
        # three lines below the body's field: Up 3, End, Left, type).
        console.send("\x1b[A" * 3 + "\x05" + "\x1b[D" + "s" + ESCAPE_ENTER)
        # A call stays a call: edited, sent again, and its reply shown.
        await console.expect(r'2 .* → call .*\(from #1\)[\s\S]*#2 ok[\s\S]*"hellos"', since=mark)
        console.line("edit 2")
        await console.expect(r"edit ›[\s\S]*edit ›[\s\S]*edit ›", drawn=True)
        mark = len(console.output())
        console.send(CTRL_C)
        await console.expect("edit abandoned: nothing sent", since=mark)
        await console.run("history", r"2 .* → call")
    assert console.session.sent == 2


async def test_an_app_runs_in_the_console_process(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    app = echo_app(broker_url, exchange, ns("echo"))

    @app.listen(ns("files.*"), queue=ns("files"))
    async def files(msg: Message) -> None:
        await msg.cast(ns("audit.done"), {"for": msg.key})

    console = await start_console(app=app, app_ref="tests.console.test_live:app")
    await console.expect("serving tests.console.test_live:app here: 2 listener")
    text = await console.run("routes", rf"{ns('files')}")
    assert ns("echo") in text and "tests.console.test_live.echo_app.<locals>.echo" in text
    assert console.session.app_keys == [ns("echo"), ns("files.*")]
    await console.run(f"tail {ns('audit')}.#", "tapping")
    await console.run(f"call {ns('echo')} x:=1", r"#1 ok")
    await console.run(f"cast {ns('files.put')}", r"→ cast")
    await console.expect(rf"← cast {ns('audit.done')} ")
    text = await console.run("queues", r"queue +messages +consumers")
    assert "vincent.dead" in text
    assert re.search(rf"{re.escape(ns('echo'))} +0 +1", text)
    assert re.search(rf"{re.escape(ns('files'))} +0 +1", text)
    await console.run(f"queues {ns('nope')}", f"no queue named '{ns('nope')}'")


async def test_the_filter_hides_tap_output_and_history(
    start_console: StartConsole, broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    console = await start_console()
    await console.run(f"tail {ns('a')}.#", "tapping")
    await console.run(f"filter {ns('a')}.keep.* !{ns('a')}.keep.no", r"filter: key ~")
    assert "filter: key ~" in console.toolbar()
    mark = len(console.output())
    async with Client(broker_url, exchange=exchange) as client:
        for key in ("a.drop", "a.keep.no", "a.keep.yes"):
            await client.cast(ns(key), {"k": key})
    await console.expect(rf"← cast {re.escape(ns('a.keep.yes'))}")
    await console.until(lambda: console.session.seen == 3)
    shown = console.output(mark)
    assert ns("a.drop") not in shown and ns("a.keep.no") not in shown
    text = await console.run("history", r"filter|keep")
    assert ns("a.drop") not in text
    await console.run("filter off", "filter: off")
    text = await console.run("history 2", rf"{re.escape(ns('a.keep.yes'))}")
    assert ns("a.keep.no") in text and ns("a.drop") not in text
    await console.run(f"history {ns('a')}.drop", rf"{re.escape(ns('a.drop'))}")
    await console.run("untail", rf"stopped {re.escape(ns('a'))}\.#")
    assert console.session.taps == []


async def test_typed_lines_persist_in_a_private_history_file(
    start_console: StartConsole, tmp_path
) -> None:
    path = tmp_path / "state" / "console_history"
    console = await start_console(history_path=path)
    await console.run("help cast", "publish a message")
    assert path.stat().st_mode & 0o777 == 0o600
    assert await console.close() == 0
    assert "help cast" in path.read_text()
    again = await start_console(history_path=path)
    # Up arrow brings the line back from the file.
    await again.run("\x1b[A", "publish a message")


@pytest.mark.slow
async def test_a_broker_restart_shows_reconnecting_and_the_console_recovers(
    fresh_rabbit_node: Any, start_console: StartConsole, exchange: str, ns: Callable[[str], str]
) -> None:
    # fresh_rabbit_node first: set up before the console, so torn down after it.
    console = await start_console(url=fresh_rabbit_node.url)
    await console.run(f"tail {ns('r')}.#", "tapping")
    reconnecting = len(console.drawn())
    await asyncio.to_thread(fresh_rabbit_node.stop_app)
    await console.until(lambda: console.session.state == "reconnecting", timeout=30)
    # On the screen, not just in the session: the toolbar is drawn again at once.
    await console.expect(r"◌ reconnecting… \(broker unreachable\)", drawn=True, since=reconnecting)
    reconnecting = len(console.drawn())
    await console.expect("lost; reconnecting")
    await console.run("help", "list the commands")  # the prompt still answers
    # A cast waits for the broker, says so, and Ctrl-C stops the wait.
    mark = console.line(f"cast {ns('r.during')} n:=0")
    await console.expect(r"#1 waits for the broker \(reconnecting\)… \(Ctrl-C stops", since=mark)
    os.kill(os.getpid(), signal.SIGINT)
    await console.expect("cancelled", since=mark)
    await asyncio.to_thread(fresh_rabbit_node.start_app)
    await console.until(lambda: console.session.state == "connected", timeout=60)
    await console.expect(r"● connected", drawn=True, since=reconnecting)
    # The tap came back with the connection: the console sees its own cast again.
    await console.run(f"cast {ns('r.after')} n:=1", rf"← cast {re.escape(ns('r.after'))} .*\(#2\)")
    async with Client(fresh_rabbit_node.url, exchange=exchange) as client:
        await client.cast(ns("r.other"), {"n": 2})
    await console.expect(rf"← cast {re.escape(ns('r.other'))}")


async def test_tab_completes_commands_and_history_numbers(
    start_console: StartConsole, ns: Callable[[str], str]
) -> None:
    console = await start_console()
    await console.run(f"cast {ns('nobody')} n:=1", "no route")
    # Keys go one step at a time, as a person types: completion runs in the background.
    console.send("sh")
    await console.expect(r"show +show message N in full", drawn=True)
    console.send("\t")
    await console.until(lambda: console.typed_text() == "show")
    console.send(" ")
    await console.expect(rf"1 +cast {re.escape(ns('nobody'))}", drawn=True)
    console.send("\t")
    await console.until(lambda: console.typed_text() == "show 1")
    mark = console.line("")
    text = await console.expect(r"properties", since=mark)
    assert f"key       {ns('nobody')}" in text
    assert console.session.history.get(1) is not None
