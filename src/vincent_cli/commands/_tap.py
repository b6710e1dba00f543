"""What ``listen`` and ``record`` share: their options and the receive loop."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.exit_codes import OK, REMOTE_ERROR, TIMEOUT, CommandError
from vincent_cli.output.emit import Output
from vincent_cli.runtime import SignalStop, silence_stdout

if TYPE_CHECKING:
    from vincent_core.client import Client
    from vincent_core.tap import Tap
    from vincent_core.wire.envelope import Envelope

__all__ = [
    "Count",
    "IdleTimeout",
    "Patterns",
    "Queue",
    "TapOptions",
    "Timeout",
    "follow",
]

Patterns = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="PATTERN",
        help="Topic patterns to tap (file.*, audit.#); not needed with --queue.",
        show_default=False,
    ),
]
Count = Annotated[
    int | None,
    typer.Option(
        "--count",
        "-n",
        metavar="N",
        min=1,
        help="Stop after this many messages.",
        show_default=False,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0,
        help="Stop after this many seconds; exit 3 if nothing was received.",
        show_default=False,
    ),
]
IdleTimeout = Annotated[
    float | None,
    typer.Option(
        "--idle-timeout",
        metavar="SECONDS",
        min=0,
        help="Stop after this many seconds without a message; exit 3 if none came.",
        show_default=False,
    ),
]
Queue = Annotated[
    str | None,
    typer.Option(
        "--queue",
        "-q",
        metavar="NAME",
        help="Consume this queue instead (takes messages from its workers, acking each).",
        show_default=False,
    ),
]

#: a copy costs nothing to prefetch; a real queue's messages are taken from workers
TAP_PREFETCH = 100
QUEUE_PREFETCH = 10


@dataclass(frozen=True, slots=True)
class TapOptions:
    """What to tap and when to stop."""

    patterns: tuple[str, ...]
    queue: str | None
    count: int | None
    timeout: float | None
    idle_timeout: float | None

    def check(self) -> None:
        """Exactly one of PATTERNs and ``--queue``."""
        if not self.patterns and not self.queue:
            raise CommandError("give at least one PATTERN (e.g. 'file.*'), or --queue NAME")
        if self.patterns and self.queue:
            raise CommandError("give PATTERNs or --queue NAME, not both")
        from vincent_core.wire.routing import check_pattern

        for pattern in self.patterns:
            check_pattern(pattern)

    def describe(self, exchange: str) -> str:
        """``exchange 'vincent', file.*`` or ``queue 'file.get'``, for the ready line."""
        if self.queue:
            return f"queue {self.queue!r}"
        return f"exchange {exchange!r}: {', '.join(self.patterns)}"


async def _next(tap: Tap, stop: SignalStop, wait: float | None) -> Envelope | None:
    """The next message, or None when ``wait`` passed or a signal arrived."""
    import asyncio

    receive = asyncio.ensure_future(tap.next(wait))
    stopped = asyncio.ensure_future(stop.event.wait())
    try:
        await asyncio.wait((receive, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if receive.done():
        return receive.result()
    receive.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        # A message the tap handed over while we were cancelling still counts.
        result = await receive
        return result
    return None


async def follow(
    client: Client,
    options: TapOptions,
    output: Output,
    write: Callable[[Envelope, dt.datetime], None],
    *,
    sink: int | None = None,
    where: str = "stdout",
) -> int:
    """Receive until ``--count``, a timeout or a signal; ``write`` each message as it comes.

    With ``--queue`` a message is acked only once it was written (and, when ``sink`` is
    the file descriptor of a pipe, once the reader took it from the pipe): a message
    that could not be written goes back to its queue, and the command ends with one
    line and exit 1 (``where`` names what could not be written to).

    Returns the exit code: 0, 3 (a timeout with nothing received), or 130/0 after
    SIGINT/SIGTERM. Everything received before the stop has been written.
    """
    options.check()
    stop = SignalStop()
    done = [0]  # messages written (and acked, with --queue), also when a write fails
    with stop.installed():
        try:
            async with client:
                prefetch = QUEUE_PREFETCH if options.queue else TAP_PREFETCH
                if options.queue:
                    output.warning(
                        f"consuming queue {options.queue!r} takes its messages from the "
                        "workers (each is acked once written)"
                    )
                async with client.listen(
                    *options.patterns, queue=options.queue, prefetch=prefetch
                ) as tap:
                    output.info(f"listening on {options.describe(client.exchange)}")
                    await _loop(tap, options, stop, write, sink, done)
        except OSError as exc:
            raise _write_failed(exc, options.queue, where, done[0]) from None
    received = done[0]
    if stop.exit_code is not None:
        return stop.exit_code
    if options.count is not None and received >= options.count:
        return OK
    if not received:
        waited = " or ".join(
            f"{label} {value:g}s"
            for label, value in (
                ("--timeout", options.timeout),
                ("--idle-timeout", options.idle_timeout),
            )
            if value is not None
        )
        output.info(f"nothing came within {waited}")
    return OK if received else TIMEOUT


def _write_failed(exc: OSError, queue: str | None, where: str, written: int) -> BaseException:
    """What a failed write ends the command with (the message is back in ``queue``)."""
    broken = isinstance(exc, BrokenPipeError)
    if broken:
        silence_stdout()
        if queue is None:
            return exc  # a tap's own copy: `listen | head -1` simply ends
    reason = "the reader closed it" if broken else (exc.strerror or str(exc))
    back = f"; the message not written went back to {queue!r}" if queue else ""
    plural = "s" if written != 1 else ""
    return CommandError(
        f"cannot write to {where}: {reason} ({written} message{plural} written{back})",
        code=REMOTE_ERROR,
    )


async def read_by_reader(fd: int) -> None:
    """Wait until the reader of the pipe ``fd`` took everything written to it.

    A pipe accepts what is written whether or not its reader will ever read it (``|
    head -n 1`` exits after one line): a message is delivered only once it left the
    pipe. Raises ``BrokenPipeError`` when the reader closed its end. Not a pipe (or no
    FIONREAD): returns at once.
    """
    import asyncio
    import errno
    import fcntl
    import os
    import select
    import stat
    import struct
    import termios

    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except OSError:
        return
    poller = select.poll()
    poller.register(fd, 0)  # POLLERR (no reader left) is reported whatever is asked
    delay = 0.0005
    while True:
        try:
            pending = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            return
        if pending == 0:
            return
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            raise BrokenPipeError(errno.EPIPE, "the reader closed the pipe")
        await asyncio.sleep(delay)
        delay = min(0.05, delay * 2)


async def _loop(
    tap: Tap,
    options: TapOptions,
    stop: SignalStop,
    write: Callable[[Envelope, dt.datetime], None],
    sink: int | None,
    done: list[int],
) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + options.timeout if options.timeout is not None else None
    last = loop.time()
    while not stop.event.is_set() and (options.count is None or done[0] < options.count):
        now = loop.time()
        waits = [t - now for t in (end,) if t is not None]
        if options.idle_timeout is not None:
            waits.append(last + options.idle_timeout - now)
        wait = min(waits) if waits else None
        if wait is not None and wait <= 0:
            break
        envelope = await _next(tap, stop, wait)
        if envelope is None:
            continue
        last = loop.time()
        write(envelope, dt.datetime.now(dt.UTC))
        if options.queue is not None:
            if sink is not None:
                await read_by_reader(sink)
            await tap.ack()  # written: only now may the broker forget it
        done[0] += 1
