"""``vincent dead [list|replay|purge]``: inspect and re-send dead-lettered messages."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vincent_cli.exit_codes import NO_ROUTE, OK, CommandError
from vincent_cli.output.emit import Output
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.client import Client
    from vincent_core.wire.envelope import Envelope

__all__ = ["app", "dead_summary"]

app = typer.Typer(
    name="dead",
    help="Inspect and re-send dead-lettered messages (default: list).",
    invoke_without_command=True,
    no_args_is_help=False,
)

QueueName = Annotated[
    str | None,
    typer.Option(
        "--queue",
        "-q",
        metavar="NAME",
        help="The dead-letter queue (default: vincent.dead, or dead_letter_queue in the config).",
        show_default=False,
    ),
]
Count = Annotated[
    int | None,
    typer.Option(
        "--count", "-n", metavar="N", min=1, help="At most this many messages.", show_default=False
    ),
]


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def dead_summary(headers: dict[str, Any]) -> dict[str, Any]:
    """What the ``x-vincent-*`` dead-letter headers say, by short name."""
    attempts = headers.get("x-vincent-attempts")
    return {
        "original_exchange": _text(headers.get("x-vincent-original-exchange")),
        "original_key": _text(headers.get("x-vincent-original-key")),
        "queue": _text(headers.get("x-vincent-queue")),
        "reason": _text(headers.get("x-vincent-reason")),
        "error_type": _text(headers.get("x-vincent-error-type")),
        "error_message": _text(headers.get("x-vincent-error-message")),
        "error_traceback": _text(headers.get("x-vincent-error-traceback")),
        "attempts": attempts if isinstance(attempts, int) else None,
        "dead_at": _text(headers.get("x-vincent-dead-at")),
    }


def _not_in_memory(ctx: typer.Context) -> None:
    """memory:// is one process's broker: another process sees an empty one."""
    from vincent_cli.exit_codes import CommandError

    if get_runtime(ctx).settings().url.startswith("memory:"):
        raise CommandError(
            "memory:// is a broker inside one process: its dead letters are there only; "
            "type `dead` in `vincent dev MODULE:OBJ` (or `vincent console --app`)"
        )


def _queue(ctx: typer.Context, queue: str | None) -> str:
    # A subcommand's --queue, else the one given to `vincent dead`, else the setting.
    group = ctx.parent.params.get("queue") if ctx.parent is not None else None
    return queue or group or get_runtime(ctx).settings().dead_letter_queue


@app.callback()
def dead(ctx: typer.Context, queue: QueueName = None, count: Count = None) -> None:
    """Inspect and re-send dead-lettered messages (default: list).

    \b
    Examples:
      vincent dead                      # list vincent.dead
      vincent dead replay --key 'file.#'
      vincent dead purge --yes
    """
    _not_in_memory(ctx)
    if ctx.invoked_subcommand is None:
        runtime = get_runtime(ctx)
        name = queue or runtime.settings().dead_letter_queue
        run_async(_list(runtime.client(), name, count, runtime.output))


@app.command("list")
def list_(ctx: typer.Context, queue: QueueName = None, count: Count = None) -> None:
    """Show dead letters: original key, reason, error, attempts, when (nothing is removed).

    In a pipe each is a record line of the original message (`vincent replay` reads it)
    with a "dead" object holding the reason, error and traceback.
    """
    runtime = get_runtime(ctx)
    run_async(_list(runtime.client(), _queue(ctx, queue), count, runtime.output))


async def _list(client: Client, queue: str, count: int | None, output: Output) -> None:
    """Show the dead letters as they are read (at most 100 held unacked at a time)."""
    import contextlib

    from vincent_cli.deadletters import DeadLetters

    async with client:
        info_before = await client.queue_info(queue)
        if info_before is None:
            raise CommandError(f"no queue named {queue!r} on {client.masked_url}")
        rows: list[tuple[Any, ...]] = []
        letters = DeadLetters(client).each(queue, limit=count)
        async with contextlib.aclosing(letters):
            async for letter in letters:
                _show(letter.dead, letter.original, output, rows)
        if output.pretty:
            output.rows(
                ("key", "reason", "error", "attempts", "dead at"),
                rows,
                title=f"{queue}: {len(rows)} of {max(info_before.messages, len(rows))}",
            )


def _show(dead: Envelope, original: Envelope, output: Output, rows: list[tuple[Any, ...]]) -> None:
    from vincent_cli.records import to_record

    info = dead_summary(dead.headers)
    if output.pretty:
        error = f"{info['error_type']}: {info['error_message']}".strip(": ")
        rows.append(
            (
                info["original_key"],
                info["reason"],
                error,
                info["attempts"],
                _short_time(info["dead_at"]),
            )
        )
    else:
        output.line({**to_record(original, _dead_at(info)), "dead": info})


def _short_time(text: str) -> str:
    """``2026-12-04T17:11:20.381880+00:00`` → ``2026-12-04T17:11:20Z``: one word, to the second
    fits a table at 80 columns; the record lines keep the microseconds."""
    try:
        when = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if when.tzinfo is not None else "")


def _dead_at(info: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(info["dead_at"])
    except (TypeError, ValueError):
        return None


@app.command("replay")
def replay(
    ctx: typer.Context,
    queue: QueueName = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            "-k",
            metavar="PATTERN",
            help="Only dead letters whose original key matches (topic pattern).",
            show_default=False,
        ),
    ] = None,
    count: Count = None,
) -> None:
    """Re-send dead letters to their original exchange and key.

    Each is removed from the dead-letter queue only after the broker confirmed the
    re-send. Exit 4 if some had no route (they stay in the dead-letter queue).
    """
    runtime = get_runtime(ctx)
    if key is not None:
        from vincent_core.wire.routing import check_pattern

        check_pattern(key)
    code = run_async(_replay(runtime.client(), _queue(ctx, queue), key, count, runtime.output))
    raise typer.Exit(code)


async def _replay(
    client: Client, queue: str, pattern: str | None, count: int | None, output: Output
) -> int:
    from vincent_cli.deadletters import DeadLetters

    async with client:
        done = await DeadLetters(client).replay(queue, pattern=pattern, limit=count)
    for key in done.unrouted:
        output.warning(f"no route for {key!r}: left in {queue}")
    replayed = done.replayed
    output.info(f"replayed {replayed} dead letter{'s' if replayed != 1 else ''} from {queue}")
    return NO_ROUTE if done.unrouted else OK


@app.command("purge")
def purge(
    ctx: typer.Context,
    queue: QueueName = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every dead letter (asks first on a terminal, unless --yes)."""
    runtime = get_runtime(ctx)
    name = _queue(ctx, queue)
    if not yes and _stdin_is_tty():
        typer.confirm(f"Delete every message in {name}?", abort=True)
    purged = run_async(_purge(runtime.client(), name))
    runtime.output.info(f"purged {purged} message{'s' if purged != 1 else ''} from {name}")


def _stdin_is_tty() -> bool:
    import sys

    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


async def _purge(client: Client, queue: str) -> int:
    async with client:
        return await client.purge(queue)
