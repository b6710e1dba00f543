"""``vincent cast KEY [BODY] [ITEM...]``: publish, confirmed, to a key something is bound to."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vincent_cli.commands._send import (
    Arguments,
    Binary,
    DryRun,
    Headers,
    Key,
    Ttl,
    message_from_command_line,
    show_dry_run,
)
from vincent_cli.output.emit import Output
from vincent_cli.output.terminal import terminal_text
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["cast", "cast_many"]

#: casts in flight at once when no --rate paces them (each still waits for its confirm)
WINDOW = 64


async def cast_many(
    client: Client,
    key: str,
    body: Any,
    *,
    count: int,
    rate: float | None,
    ttl: float | None,
    headers: dict[str, Any],
    sent: Callable[[str], None],
) -> None:
    """Cast ``count`` copies (``rate`` per second, or as fast as confirms come back);
    ``sent(message_id)`` is called for each confirmed one. ``NoRoute`` stops at once."""
    import asyncio

    async def one() -> None:
        sent(await client.cast(key, body, ttl=ttl, headers=headers, require_route=True))

    if rate:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(count):
            # Pacing against the start time, so slow confirms do not lower the rate.
            await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
            await one()
        return
    for first in range(0, count, WINDOW):
        batch = [asyncio.ensure_future(one()) for _ in range(min(WINDOW, count - first))]
        results = await asyncio.gather(*batch, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def cast(
    ctx: typer.Context,
    key: Key,
    arguments: Arguments = None,
    ttl: Ttl = None,
    header: Headers = None,
    count: Annotated[
        int,
        typer.Option("--count", "-n", metavar="N", min=1, help="Send the message this many times."),
    ] = 1,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            metavar="N",
            min=0.001,
            help="Messages per second with --count.",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRun = False,
    binary: Binary = False,
) -> None:
    """Publish a message to KEY; exit 4 if nothing is bound to it.

    Returns once the broker confirmed every message. On a pipe each message's id is
    printed as a JSON line.

    \b
    Examples:
      vincent cast file.encrypt '{"key_id": 1234}'
      vincent cast file.encrypt file=/gfs1/f.dat key_id:=1234 -H x-origin:ops
      vincent cast load.test n:=1 --count 1000 --rate 200
    """
    runtime = get_runtime(ctx)
    output = runtime.output
    body, headers = message_from_command_line(arguments, header, binary=binary)
    settings = runtime.settings()
    if dry_run:
        show_dry_run(output, settings.exchange, key, body, headers=headers, ttl=ttl)
        return
    run_async(_cast(runtime.client(settings), key, body, count, rate, ttl, headers, output))


async def _cast(
    client: Client,
    key: str,
    body: Any,
    count: int,
    rate: float | None,
    ttl: float | None,
    headers: dict[str, Any],
    output: Output,
) -> None:
    async with client:
        if count > 1 and output.progress:
            from vincent_cli.output.views import progress_bar

            with progress_bar(output.console(stderr=True)) as bar:
                task = bar.add_task(terminal_text(f"cast {key}"), total=count)
                await cast_many(
                    client,
                    key,
                    body,
                    count=count,
                    rate=rate,
                    ttl=ttl,
                    headers=headers,
                    sent=lambda _id: bar.advance(task),
                )
            return
        ids: list[str] = []
        await cast_many(
            client,
            key,
            body,
            count=count,
            rate=rate,
            ttl=ttl,
            headers=headers,
            sent=ids.append,
        )
    if output.pretty:
        which = f"id {ids[0]}" if count == 1 else f"{count} messages"
        text = terminal_text(f"cast {key}: confirmed ({which})")
        output.console().print(text, markup=False, highlight=False)
    else:
        for message_id in ids:
            output.line({"key": key, "message_id": message_id})
