"""Drive the real console: prompt_toolkit reads keys from a pipe, output goes to buffers.

``start_console()`` runs :func:`vincent_cli.console.app.console_main` as a task on the
test's loop with a pipe input; what the console prints is in ``driver.out`` and what
prompt_toolkit draws (prompt, toolbar) in ``driver.screen``. ``expect`` polls with a
deadline; nothing here sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output
from rich.console import Console

from tests.poll import eventually
from vincent_cli.console.app import console_main
from vincent_cli.console.commands import Commands
from vincent_cli.console.session import Session
from vincent_cli.console.toolbar import toolbar_text

ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
ESCAPE_ENTER = "\x1b\r"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-2]|\x1b[=>]")


class ScreenOutput(Vt100_Output):
    """A terminal drawn into a ``StringIO``, 40 rows by 200 columns.

    A real terminal answers a cursor position request, which tells prompt_toolkit the
    room below the prompt; without it the bottom toolbar is not drawn. This one says.
    """

    def __init__(self, screen: io.StringIO) -> None:
        super().__init__(screen, lambda: Size(rows=40, columns=200), term="xterm")

    def get_rows_below_cursor_position(self) -> int:
        return 30


@dataclass
class Driver:
    """One running console and the keys and output around it."""

    pipe: PipeInput
    out: io.StringIO
    screen: io.StringIO
    task: asyncio.Task[int]
    history_path: Path
    typed: list[str] = field(default_factory=list)
    commands: Commands | None = None

    @property
    def session(self) -> Session:
        assert self.commands is not None, "the console has not started"
        return self.commands.session

    def typed_text(self) -> str:
        """What is in the prompt's input buffer now (the interactive loop bound the
        screen's redraw to the prompt application)."""
        assert self.commands is not None
        application = getattr(self.commands.screen.invalidate, "__self__", None)
        assert application is not None, "no prompt yet"
        return str(application.current_buffer.text)

    def toolbar(self) -> str:
        return toolbar_text(self.session)

    def _alive(self, what: str) -> None:
        """Raise if the console ended (its own exception, if it raised one)."""
        if self.task.done():
            self.task.result()
            raise AssertionError(f"the console ended {what}")

    async def until(self, condition: Callable[[], object], timeout: float = 20.0) -> None:
        """Wait until ``condition()`` holds."""

        def holds() -> bool:
            if condition():
                return True
            self._alive(f"before {condition}")
            return False

        await eventually(holds, timeout, what=lambda: condition, interval=0.01)

    def send(self, keys: str) -> None:
        """Type ``keys`` (escape sequences allowed)."""
        self.typed.append(keys)
        self.pipe.send_text(keys)

    def line(self, text: str) -> int:
        """Type a line and Enter; returns the output position before it, for ``expect``."""
        mark = len(self.out.getvalue())
        self.send(text + ENTER)
        return mark

    def output(self, since: int = 0) -> str:
        return self.out.getvalue()[since:]

    def drawn(self) -> str:
        """What prompt_toolkit drew so far, escape sequences removed."""
        return _ANSI.sub("", self.screen.getvalue())

    async def expect(
        self, pattern: str, *, since: int = 0, timeout: float = 20.0, drawn: bool = False
    ) -> str:
        """Wait until the output after ``since`` (or the screen drawn after ``since``)
        matches ``pattern`` (a regular expression); returns that output."""
        seen = [""]

        def matches() -> bool:
            seen[0] = self.drawn()[since:] if drawn else self.output(since)
            if re.search(pattern, seen[0]):
                return True
            self._alive(f"before {pattern!r}:\n{seen[0]}")
            return False

        await eventually(
            matches, timeout, what=lambda: f"no {pattern!r} in:\n{seen[0]}", interval=0.01
        )
        return seen[0]

    async def run(self, text: str, pattern: str, *, timeout: float = 20.0) -> str:
        """Type a command and wait for its output to match ``pattern``."""
        return await self.expect(pattern, since=self.line(text), timeout=timeout)

    async def close(self, timeout: float = 30.0) -> int:
        """Ctrl-C (drops a half-typed line), Ctrl-D, then the exit code."""
        if not self.task.done():
            self.send(CTRL_C + CTRL_D)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(self.task)
        finally:
            if not self.task.done():
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.task


StartConsole = Callable[..., Awaitable[Driver]]


@pytest.fixture
async def start_console(
    broker_url: str, exchange: str, tmp_path: Path
) -> AsyncIterator[StartConsole]:
    """``await start_console(app=None, url=None, **console_main_options)``."""
    drivers: list[Driver] = []
    with contextlib.ExitStack() as stack:

        async def start(**options: Any) -> Driver:
            pipe = stack.enter_context(create_pipe_input())
            out, screen = io.StringIO(), io.StringIO()
            history_path = options.pop("history_path", tmp_path / f"history{len(drivers)}")
            options.setdefault("url", broker_url)
            options.setdefault("exchange", exchange)
            holder: list[Commands] = []
            task = asyncio.create_task(
                console_main(
                    started=holder.append,
                    out=Console(file=out, width=200, color_system=None, highlight=False),
                    input=pipe,
                    output=ScreenOutput(screen),
                    history_path=history_path,
                    **options,
                )
            )
            driver = Driver(pipe, out, screen, task, history_path)
            drivers.append(driver)
            await driver.expect("Ctrl-D leaves")
            # The prompt is drawn once everything (the app included) runs.
            await driver.expect(r"vincent(:\S+)? ›", drawn=True)
            driver.commands = holder[0]
            return driver

        yield start
        for driver in drivers:
            await driver.close()
