"""``vincent record PATTERN... -o FILE``: save matching traffic as record lines."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, BinaryIO

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
from vincent_cli.exit_codes import CommandError
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.wire.envelope import Envelope

__all__ = ["record"]


def _open(path: Path, append: bool) -> BinaryIO:
    try:
        return path.open("ab" if append else "wb")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _fileno(sink: IO[bytes]) -> int | None:
    try:
        return sink.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def record(
    ctx: typer.Context,
    output_file: Annotated[
        Path,
        typer.Option(
            "--output-file",
            "-o",
            metavar="FILE",
            help="Where to write the records (- for stdout).",
            show_default=False,
        ),
    ],
    patterns: Patterns = None,
    append: Annotated[bool, typer.Option("--append", "-a", help="Add to FILE.")] = False,
    count: Count = None,
    timeout: Timeout = None,
    idle_timeout: IdleTimeout = None,
    queue: Queue = None,
) -> None:
    """Save the messages matching PATTERNs to FILE, one record (JSON line) each.

    Like `vincent listen`, it taps a copy and steals nothing. Each line is flushed as it
    is written; Ctrl-C (exit 130) or SIGTERM (exit 0) stop cleanly. With --queue NAME a
    message is acked only once written; a full disk ends it with exit 1 and the message
    back in its queue. `vincent replay FILE`
    sends the messages again.

    \b
    Examples:
      vincent record 'file.#' -o traffic.jsonl --timeout 60
      vincent replay traffic.jsonl --timing
    """
    from vincent_cli.records import dump_record

    runtime = get_runtime(ctx)
    output = runtime.output
    options = TapOptions(tuple(patterns or ()), queue, count, timeout, idle_timeout)
    options.check()
    to_stdout = str(output_file) == "-"
    sink = output.stdout_binary() if to_stdout else _open(output_file, append)
    written = 0

    def write(envelope: Envelope, received: dt.datetime) -> None:
        nonlocal written
        sink.write(dump_record(envelope, received) + b"\n")
        sink.flush()
        written += 1

    where = "stdout" if to_stdout else str(output_file)
    try:
        code = run_async(
            follow(runtime.client(), options, output, write, sink=_fileno(sink), where=where)
        )
    finally:
        if not to_stdout:
            # What a failed flush left in the buffer must not fail the close as well.
            with contextlib.suppress(OSError):
                sink.close()
    output.info(f"recorded {written} message{'s' if written != 1 else ''} to {where}")
    raise typer.Exit(code)
