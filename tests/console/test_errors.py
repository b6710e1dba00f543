"""Nothing typed ends the console: every failure is one line and the next command runs.

On memory:// (no broker needed), through the line mode.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.console import Console

from tests.console.sample_app import PREFIX
from tests.console.sample_app import app as sample_app
from vincent_cli.console.app import console_main
from vincent_cli.console.commands import Commands
from vincent_cli.console.parser import Command


async def feed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


async def run_lines(url: str, *lines: str, code: int = 0) -> str:
    out = io.StringIO()
    ended = await console_main(
        url=url,
        exchange="errors",
        app=sample_app,
        interactive=False,
        out=Console(file=out, width=200, color_system=None),
        lines=feed(*lines),
    )
    assert ended == code, out.getvalue()
    return out.getvalue()


async def test_bad_input_is_reported_in_one_line_and_the_console_goes_on(
    ns: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Commands, command: Command) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Commands, "_clear", broken)
    failures = {
        f"cast {PREFIX}.#": "is a pattern: cast and call need a plain key",
        f"call {PREFIX}.echo {{oops}}": "(near '{oops}')",
        f"call {PREFIX}.echo a b=1": "(near 'a')",
        f"cast {PREFIX}.echo @{tmp_path / 'missing'}": "cannot read @",
        f"cast {PREFIX}.echo --ttl soon": "--ttl takes a number of seconds",
        f"cast {PREFIX}.echo -H nocolon": "header 'nocolon' is not name:value",
        f"call {PREFIX}.echo --wait 3": "call: unknown option '--wait'",
        f"save {tmp_path / 'no' / 'such' / 'dir.jsonl'}": "cannot write",
        f"load {tmp_path}": "Is a directory",
        "show 99": "there is no message #99",
        "replay x": "N must be a message number",
        "filter is:what": "filter: is:what?",
        f"tail {PREFIX}.ev*": "stand for whole words between dots",
        "frobnicate": "unknown command 'frobnicate'",
        "clear": "unexpected RuntimeError: a bug",
    }
    out = await run_lines(
        f"memory://{ns('errors')}",
        f"call {PREFIX}.echo n:=1",
        *failures,
        f"call {PREFIX}.slow seconds:=1 --timeout 0.2",
        f"call {PREFIX}.fail name=x",
        f"cast {PREFIX}.nobody",
        "replay 1 n:=2",
        code=2,  # the first failure's code: usage (the session's lines are not all fine)
    )
    lines = out.splitlines()
    for line, message in failures.items():
        shown = [text for text in lines if message in text]
        assert len(shown) == 1 and shown[0].startswith("✗ "), (line, out)
    assert "Traceback" in out  # only the remote handler's, shown as its error
    assert out.count("Traceback") == 1
    assert re.search(r"#\d+ timeout \d+ ms: no reply after 0\.2s", out)
    # A remote error is stated once: the outcome line, then the traceback's frames.
    assert re.search(r"#\d+ error \d+ ms: LookupError: nothing called 'x'", out)
    assert out.count("nothing called 'x'") == 1, out
    assert f"no route: nothing is bound to '{PREFIX}.nobody'" in out
    assert re.search(r"#\d+ ok[\s\S]*\"n\": 2", out), "the last line still ran"
