"""The read-eval-print loops: the prompt on a terminal, lines from stdin otherwise.

Ctrl-C has two meanings. At the prompt the terminal is in raw mode and prompt_toolkit
sees the key: the line being typed is dropped. While a command runs the terminal is in
cooked mode and sends SIGINT: that cancels the command (a call stops waiting) and the
prompt returns. Either way the console goes on; only Ctrl-D and ``exit`` end it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from typing import IO

from prompt_toolkit import PromptSession
from prompt_toolkit.patch_stdout import patch_stdout

from vincent_cli.console import render
from vincent_cli.console.commands import Commands, Failure
from vincent_cli.console.parser import needs_more

__all__ = ["interactive", "line_mode", "run_cancellable", "stream_lines"]


@contextlib.contextmanager
def _sigint_cancels(task: asyncio.Task[bool]) -> Iterator[None]:
    """SIGINT cancels ``task`` meanwhile (main thread only; elsewhere nothing changes)."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        installed = False
    else:
        installed = True
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
            # asyncio.run's own handler (or pytest's) comes back, not the default.
            if previous is not None:
                signal.signal(signal.SIGINT, previous)


async def run_cancellable(commands: Commands, line: str) -> bool:
    """Run one line as a task that Ctrl-C cancels; ``False`` when the console should end."""
    task = asyncio.get_running_loop().create_task(commands.run_line(line))
    with _sigint_cancels(task):
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            commands.screen.print(render.note("cancelled"))
            return True


async def interactive(commands: Commands, prompt: PromptSession[str], *, patch: bool) -> None:
    """Prompt, run, repeat, until Ctrl-D or ``exit``.

    With ``patch`` (a real terminal), whatever is printed while the prompt is up (tap
    output, logs) appears above it and the line being typed is drawn again below.
    """
    commands.screen.invalidate = prompt.app.invalidate
    with patch_stdout(raw=True) if patch else contextlib.nullcontext():
        while True:
            try:
                line = await prompt.prompt_async()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if not await run_cancellable(commands, line):
                break


async def line_mode(commands: Commands, lines: AsyncIterator[str]) -> int:
    """Run commands read line by line (no terminal), until end of input or ``exit``.

    A line that ends inside an open bracket or quote continues on the next one, as at
    the prompt. Returns the exit code: 0 when every command succeeded, else the CLI's
    code for the first failure (so a piped session can be a smoke test), after a line on
    stderr that counts the failures.
    """
    pending = ""
    ran = 0
    async for line in lines:
        pending += line
        if needs_more(pending):
            continue
        text, pending = pending.strip(), ""
        if not text:
            continue
        ran += 1
        if not await run_cancellable(commands, text):
            break
    else:
        if pending.strip():
            ran += 1
            await run_cancellable(commands, pending)
    return _verdict(commands.failures, ran)


def _verdict(failures: list[Failure], ran: int) -> int:
    if not failures:
        return 0
    first = failures[0]
    print(
        f"vincent: {len(failures)} failure(s) in {ran} command(s); the first: "
        f"{first.line!r}: {first.reason} (exit {first.code})",
        file=sys.stderr,
        flush=True,
    )
    return first.code


async def stream_lines(stream: IO[str] | None = None) -> AsyncIterator[str]:
    """The lines of ``stream`` (stdin by default) without blocking the event loop.

    Pipes, sockets and terminals are read asynchronously, so taps print while the
    console waits for input; regular files (and devices the loop cannot watch, like
    /dev/null) never block, so they are read directly.
    """
    stream = stream or sys.stdin
    fd = stream.fileno()
    mode = os.fstat(fd).st_mode
    transport: asyncio.ReadTransport | None = None
    # Only pipes, sockets and terminals: epoll refuses regular files and /dev/null, and
    # connect_read_pipe would only find out later, in a callback.
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd):
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), stream
        )
    if transport is None:
        for text in stream:
            yield text
        return
    try:
        while data := await reader.readline():
            yield data.decode("utf-8", errors="replace")
    finally:
        transport.close()
        # connect_read_pipe made it non-blocking; the shell that owns it expects blocking.
        os.set_blocking(fd, True)
