"""``vincent call KEY [BODY] [ITEM...]``: send a request, print the reply."""

from __future__ import annotations

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
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["call"]


def call(
    ctx: typer.Context,
    key: Key,
    arguments: Arguments = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", "-t", metavar="SECONDS", min=0.001, help="Seconds to wait for the reply."
        ),
    ] = 10.0,
    ttl: Ttl = None,
    header: Headers = None,
    dry_run: DryRun = False,
    binary: Binary = False,
) -> None:
    """Send a request to KEY and print the reply.

    JSON replies are pretty on a terminal and one compact line in a pipe; bytes replies
    are written raw to a pipe or file. Exit 1 if the handler raised (its type, message
    and traceback go to stderr), 3 on timeout, 4 if nothing is bound to KEY.

    \b
    Examples:
      vincent call file.get file=/gfs1/f.dat > f.dat
      vincent call user.find '{"id": 7}' | jq .name
    """
    runtime = get_runtime(ctx)
    body, headers = message_from_command_line(arguments, header, binary=binary)
    settings = runtime.settings()
    if dry_run:
        show_dry_run(
            runtime.output, settings.exchange, key, body, headers=headers, ttl=ttl, timeout=timeout
        )
        return
    reply = run_async(_call(runtime.client(settings), key, body, timeout, ttl, headers))
    runtime.output.value(reply)


async def _call(
    client: Client,
    key: str,
    body: Any,
    timeout: float,
    ttl: float | None,
    headers: dict[str, Any],
) -> Any:
    async with client:
        return await client.call(key, body, timeout=timeout, ttl=ttl, headers=headers or None)
