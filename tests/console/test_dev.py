"""``vincent dev``: the app and the console on memory://, no broker anywhere."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from tests.console.conftest import StartConsole
from tests.console.test_live import echo_app

ROOT = Path(__file__).resolve().parents[2]


async def test_dev_taps_everything_and_calls_the_app_in_process(
    start_console: StartConsole, ns: Callable[[str], str], exchange: str
) -> None:
    app = echo_app("memory://", exchange, ns("echo"))
    console = await start_console(url="memory://", app=app, app_ref="my:app", dev=True)
    banner = await console.expect("tapping #")
    assert "memory:// (an in-process broker" in banner
    await console.expect(r"memory:// · ", drawn=True)
    await console.run(f"call {ns('echo')} hello=world", r"#1 ok[\s\S]*\"world\"")
    await console.expect(rf"2 .* ← call {ns('echo')} .*\(#1\)")
    assert console.session.taps == ["#"]


async def vincent(*args: str, stdin: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vincent_cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "SAMPLE_PREFIX": "devtest"},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_vincent_dev_without_a_terminal_reads_commands_from_stdin() -> None:
    code, out, err = await vincent(
        "dev",
        "tests.console.sample_app:app",
        stdin='routes\ncall devtest.echo {"n": [1,\n 2]}\ncall devtest.fail name=q\nexit\n',
    )
    assert code == 0, err
    assert "devtest.echo" in out and "devtest.slow" in out
    assert '"n": [' in out
    assert "remote error LookupError: nothing called 'q'" in out
