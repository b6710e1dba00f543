"""``vincent listen PATTERN...``: watch a copy of the traffic, or drain a queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from vincent_cli.commands._tap import (
    Count,
    IdleTimeout,
    Patterns,
    Queue,
    TapOptions,
    Timeout,
    follow,
)
from vincent_cli.output.emit import Output
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.wire.envelope import Envelope

__all__ = ["listen", "writer_for"]


def writer_for(output: Output) -> Callable[[Envelope, dt.datetime], None]:
    """How each message is shown: a live line on a terminal, a record line in a pipe."""
    from vincent_cli.records import dump_record

    if not output.pretty:

        def write_record(envelope: Envelope, received: dt.datetime) -> None:
            output.write_line(dump_record(envelope, received))

        return write_record

    from vincent_cli.output.views import live_line

    console = output.console()

    def write_live(envelope: Envelope, received: dt.datetime) -> None:
        console.print(live_line(envelope, received, console.width), soft_wrap=True)

    return write_live


def listen(
    ctx: typer.Context,
    patterns: Patterns = None,
    count: Count = None,
    timeout: Timeout = None,
    idle_timeout: IdleTimeout = None,
    queue: Queue = None,
) -> None:
    """Tap a copy of the messages matching PATTERNs, without taking them from workers.

    A private, exclusive queue is bound to the exchange with the patterns: workers still
    get every message. On a terminal each message is one readable line (time, key, body,
    call/reply markers); in a pipe each is one record line (the format `vincent replay`
    reads), flushed at once. Ctrl-C (exit 130) or SIGTERM (exit 0) stop cleanly.

    \b
    Examples:
      vincent listen 'file.*' 'audit.#'
      vincent listen file.encrypted --count 1 --timeout 20 | jq .body
      vincent listen --queue file.get --count 5

    With --queue NAME it consumes that queue instead, taking its messages from the
    workers: each is acked only once written (in a pipe: once the reader took it), so
    `vincent listen --queue Q | head -n 1` takes exactly one. A closed pipe or a full
    disk ends it with exit 1; the message not written stays in the queue.
    """
    runtime = get_runtime(ctx)
    output = runtime.output
    options = TapOptions(tuple(patterns or ()), queue, count, timeout, idle_timeout)
    options.check()
    code = run_async(
        follow(runtime.client(), options, output, writer_for(output), sink=_fileno(output))
    )
    raise typer.Exit(code)


def _fileno(output: Output) -> int | None:
    try:
        return output.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return None
