"""On a terminal, text from messages and the broker is shown escaped, never raw and never
as rich markup (CONTRACT 6.3). Each test reads what a real pseudo-terminal received."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiormq
from pamqp.commands import Basic

from tests.cli.helpers import Cli

#: what a hostile publisher puts in keys, headers and bodies
CLEAR = "\x1b[2J"  # clear the screen
TITLE = "\x1b]0;pwned"  # an OSC window title, never terminated
CSI8 = "\u009b31m"  # the 8-bit CSI: red, on terminals that take C1 controls
MARKUP = "[red]x[/red]"

#: none of these may reach the terminal
RAW = [CLEAR.encode(), b"\x1b]", CSI8.encode()]


def _publish(url: str, exchange: str, key: str, body: Any, headers: dict[str, Any]) -> None:
    """Publish as a foreign client would (aiormq itself, no vincent in between)."""

    async def run() -> None:
        connection = await aiormq.connect(url)
        try:
            channel = await connection.channel()
            if not exchange:
                await channel.queue_declare(key)
            properties = Basic.Properties(headers=headers, content_type="application/json")
            payload = json.dumps(body).encode()
            await channel.basic_publish(
                payload, exchange=exchange, routing_key=key, properties=properties
            )
        finally:
            await connection.close()

    asyncio.run(run())


def _assert_safe(raw: bytes) -> None:
    for sequence in RAW:
        assert sequence not in raw, (sequence, raw)


def test_dead_list_escapes_the_key_and_headers_on_a_terminal(
    cli: Cli, broker_url: str, ns: Callable[..., str]
) -> None:
    queue = ns("dead")
    headers = {
        "x-vincent-original-key": f"k{CLEAR}",
        "x-vincent-original-exchange": "x",
        "x-vincent-reason": f"r{TITLE}",
        "x-vincent-error-type": "E",
        "x-vincent-error-message": f"{MARKUP}{CSI8}",
        "x-vincent-attempts": 1,
    }
    _publish(broker_url, "", queue, {"n": 1}, headers)
    done = cli.in_terminal("dead", "list", "--queue", queue).finish()
    raw = done.stdout
    assert done.code == 0, raw
    _assert_safe(raw)
    assert b"k\\x1b[2J" in raw
    assert b"r\\x1b]0;pwned" in raw
    assert MARKUP.encode() + b"\\x9b31m" in raw


def test_listen_escapes_the_key_and_body_on_a_terminal(
    cli: Cli, broker_url: str, exchange: str, ns: Callable[..., str]
) -> None:
    listener = cli.in_terminal("listen", ns("evil.#"), "--count", "1", "--timeout", "30")
    listener.stdout.wait_for(lambda line: b"listening on" in line)
    body = {"text": f"{MARKUP} {TITLE} {CSI8}"}
    _publish(broker_url, exchange, ns("evil.") + CLEAR, body, {"x-vincent-trace": "a\x1b[5m"})
    done = listener.finish()
    raw = done.stdout
    assert done.code == 0, raw
    _assert_safe(raw)
    assert b"evil.\\x1b[2J" in raw
    assert MARKUP.encode() in raw and b"\\u009b31m" in raw


def test_call_and_cast_escape_what_they_print_on_a_terminal(
    cli: Cli, ns: Callable[..., str]
) -> None:
    cli.serve("echo", CLI_PREFIX=ns())
    body = json.dumps({"text": f"{MARKUP}{CSI8}{TITLE}"})
    done = cli.in_terminal("call", ns("echo"), body).finish()
    assert done.code == 0, done.stdout
    _assert_safe(done.stdout)
    assert b"\\u009b31m" in done.stdout and MARKUP.encode() in done.stdout
    raw = cli.in_terminal("--output", "raw", "call", ns("echo"), json.dumps(f"{CLEAR}{CSI8}"))
    done = raw.finish()
    assert done.code == 0, done.stdout
    _assert_safe(done.stdout)
    assert b"\\x1b[2J\\x9b31m" in done.stdout
    cast = cli.in_terminal("cast", ns("echo") + MARKUP + CLEAR, "n:=1", "--count", "2").finish()
    _assert_safe(cast.stdout)
