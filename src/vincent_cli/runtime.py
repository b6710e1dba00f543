"""What every command shares: the global options, resolved settings, output, signals."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from vincent_cli.output.emit import Output, OutputMode
from vincent_cli.settings import Flags, Settings, resolve

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["Runtime", "SignalStop", "get_runtime", "run_async"]

T = TypeVar("T")


@dataclass
class Runtime:
    """The global options of one ``vincent`` invocation (``ctx.obj`` of the root)."""

    flags: Flags = field(default_factory=Flags)
    output_mode: OutputMode | None = None
    _settings: Settings | None = None
    _output: Output | None = None

    def settings(self, *, api: str | None = None) -> Settings:
        """The resolved settings (flags > env > config file > defaults)."""
        if api is not None:
            flags = Flags(self.flags.broker, self.flags.exchange, self.flags.context, api)
            return resolve(flags)
        if self._settings is None:
            self._settings = resolve(self.flags)
        return self._settings

    @property
    def output(self) -> Output:
        """How this invocation writes its results."""
        if self._output is None:
            self._output = Output.for_streams(self.output_mode)
        return self._output

    def client(self, settings: Settings | None = None) -> Client:
        """A (not yet connected) client for the resolved broker and exchange."""
        from vincent_core.client import Client

        chosen = settings or self.settings()
        return Client(chosen.url, exchange=chosen.exchange)


def get_runtime(ctx: typer.Context) -> Runtime:
    """The :class:`Runtime` the root callback stored (a fresh one in unit tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Runtime):
        root.obj = Runtime()
    return root.obj


def silence_stdout() -> None:
    """The reader of stdout went away (``vincent listen | head -1``): stop writing, and
    keep the interpreter from complaining when it flushes stdout at exit."""
    import os
    import sys

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class PipeClosed(Exception):
    """The reader of stdout went away (``vincent listen | head -1``): the command ends
    cleanly, exit 0. Not an ``OSError``: click would turn an EPIPE into exit 1."""


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine on a fresh event loop.

    A closed stdout pipe becomes :class:`PipeClosed` (exit 0). Commands that owe more than
    a quiet end (``listen --queue`` puts the unwritten message back and says so) catch the
    ``BrokenPipeError`` themselves.
    """
    import asyncio

    try:
        return asyncio.run(coroutine)
    except BrokenPipeError:
        raise PipeClosed from None


class SignalStop:
    """SIGINT/SIGTERM set :attr:`event` instead of killing the process, so a command can
    stop cleanly (flush what it has) and then exit 130 for SIGINT, 0 for SIGTERM.

    ::

        with SignalStop() as stop:
            while not stop.event.is_set(): ...
        code = stop.exit_code
    """

    def __init__(self) -> None:
        import asyncio

        self.event = asyncio.Event()
        self.received: signal.Signals | None = None

    def _on_signal(self, signum: signal.Signals) -> None:
        if self.received is None:
            self.received = signum
        self.event.set()

    @property
    def exit_code(self) -> int | None:
        """130 after SIGINT (like Ctrl-C), 0 after SIGTERM (asked to stop), else None."""
        if self.received is None:
            return None
        return 130 if self.received == signal.SIGINT else 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalStop]:
        """Handle the signals on the running loop for the duration of the block."""
        import asyncio

        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._on_signal, signum)
                installed.append(signum)
        try:
            yield self
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
