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
