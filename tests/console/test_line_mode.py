"""Without a terminal: commands read line by line, and the exit codes of the entry point."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.console import Console

from tests.console.test_live import echo_app
from vincent_cli.console.app import console_main

pytestmark = pytest.mark.rabbitmq

ROOT = Path(__file__).resolve().parents[2]


async def feed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


async def test_line_mode_runs_each_line_and_joins_open_json(
    broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    out = io.StringIO()
    key = ns("echo")
    async with echo_app(broker_url, exchange, key).running():
        code = await console_main(
            url=broker_url,
            exchange=exchange,
            interactive=False,
            out=Console(file=out, width=120, color_system=None),
            lines=feed(f'call {key} {{"a": [1,', "  2]}", "", "show 1", "nonsense", "exit", "help"),
        )
    text = out.getvalue()
    assert code == 2, "nonsense is an unknown command: usage, exit 2"
    assert re.search(rf'1 [\d:]+ → call {re.escape(key)} {{"a":\[1,2\]}}', text)
    assert "#1 ok" in text and "reply_to" in text
    assert "unknown command 'nonsense'" in text
    assert "list the commands" not in text, "nothing runs after exit"


def run(
    url: str,
    exchange: str,
    app_ref: str | None = None,
    *,
    stdin: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> tuple[int, str, str]:
    """``vincent --broker URL --exchange X console [--app APP]`` with ``stdin``."""
    import subprocess

    app = ["--app", app_ref] if app_ref else []
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vincent_cli",
            "--broker",
            url,
            "--exchange",
            exchange,
            "console",
            *app,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stdout, done.stderr


async def test_the_entry_point_reads_stdin_and_serves_the_app(
    broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    prefix = ns("sample")
    code, out, err = await asyncio.to_thread(
        run,
        broker_url,
        exchange,
        "tests.console.sample_app:app",
        stdin=f"routes\ncall {prefix}.echo n:=5\ncall {prefix}.fail name=x\n",
        env={"SAMPLE_PREFIX": prefix},
    )
    assert code == 1, "a call ended in a remote error: exit 1, as vincent call"
    assert "1 failure(s) in 3 command(s)" in err
    assert f"{prefix}.echo" in out and '"n": 5' in out
    assert re.search(r"#\d+ error \d+ ms: LookupError: nothing called 'x'", out)
    assert "\x1b[" not in out, "no colour on a pipe"


async def test_an_unreachable_broker_exits_5_with_the_password_masked() -> None:
    code, _, err = await asyncio.to_thread(run, "amqp://guest:s3cret@127.0.0.1:9/", "x", stdin="")
    assert code == 5
    assert "guest:***@127.0.0.1:9" in err and "s3cret" not in err


async def test_a_bad_app_exits_2(broker_url: str, tmp_path: Path) -> None:
    code, _, err = await asyncio.to_thread(run, broker_url, "x", "tests.console:nothing", stdin="")
    assert code == 2 and "has no attribute 'nothing'" in err
    code, _, err = await asyncio.to_thread(run, broker_url, "x", "not a target", stdin="")
    assert code == 2 and "MODULE:OBJ" in err
    (tmp_path / "broken_app.py").write_text("raise RuntimeError('boom at import')\n")
    code, _, err = await asyncio.to_thread(
        run, broker_url, "x", "broken_app:app", stdin="", cwd=tmp_path
    )
    assert code == 2
    assert "RuntimeError: boom at import" in err and 'broken_app.py", line 1' in err


@pytest.mark.parametrize(
    ("lines", "code", "first"),
    [
        ("call {p}.echo n:=1\nhistory\n", 0, None),
        ("call {p}.echo n:=1\ncall {p}.fail name=x\ncall {p}.echo n:=2\n", 1, "#2 error"),
        ("call {p}.slow seconds:=5 --timeout 0.2\ncall {p}.fail name=x\n", 3, "#1 timeout"),
        ("cast {p}.nobody\nexit\n", 4, "#1 no route"),
        ("show 7\ncall {p}.echo n:=1\n", 2, "there is no message #7"),
    ],
)
async def test_a_piped_session_exits_non_zero_when_a_command_failed(
    broker_url: str,
    exchange: str,
    ns: Callable[[str], str],
    lines: str,
    code: int,
    first: str | None,
) -> None:
    """A piped console is a smoke test: 0 when every command worked, else the code the
    CLI gives the first failure, after one line on stderr."""
    prefix = ns("sample")
    ended, out, err = await asyncio.to_thread(
        run,
        broker_url,
        exchange,
        "tests.console.sample_app:app",
        stdin=lines.format(p=prefix),
        env={"SAMPLE_PREFIX": prefix},
    )
    assert ended == code, (out, err)
    if first is None:
        assert err == ""
    else:
        assert re.match(r"vincent: \d failure\(s\) in \d command\(s\); the first: ", err), err
        assert first in err and f"(exit {code})" in err
