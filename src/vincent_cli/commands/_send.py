"""What ``cast`` and ``call`` share: their arguments, and ``--dry-run``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vincent_cli.args import build_body, parse_headers
from vincent_cli.exit_codes import CommandError
from vincent_cli.output.emit import Output

__all__ = [
    "Arguments",
    "Binary",
    "DryRun",
    "Headers",
    "Key",
    "Ttl",
    "message_from_command_line",
    "show_dry_run",
]

Key = Annotated[
    str,
    typer.Argument(metavar="KEY", help="The routing key, e.g. file.encrypt.", show_default=False),
]
Arguments = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="BODY ITEM",
        help=(
            "BODY: JSON, - (stdin) or @file. ITEM: name=value (string) or name:=json, "
            "merged into the body; escape = or : in a name with a backslash."
        ),
        show_default=False,
    ),
]
Ttl = Annotated[
    float | None,
    typer.Option(
        "--ttl",
        metavar="SECONDS",
        min=0.001,
        help="Seconds the message may wait in a queue.",
        show_default=False,
    ),
]
Headers = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="NAME:VALUE",
        help="An AMQP header (repeatable).",
        show_default=False,
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the exact message (a record line); send nothing.")
]
Binary = Annotated[
    bool,
    typer.Option(
        "--binary", help="Send a - or @file BODY as raw bytes (application/octet-stream)."
    ),
]


def message_from_command_line(
    arguments: list[str] | None, headers: list[str] | None, *, binary: bool
) -> tuple[Any, dict[str, Any]]:
    """The body and headers the command line describes (exit 2 on bad input)."""
    return build_body(arguments or [], binary=binary), parse_headers(headers or [])


def show_dry_run(
    output: Output,
    exchange: str,
    key: str,
    body: Any,
    *,
    headers: dict[str, Any],
    ttl: float | None,
    timeout: float | None = None,
) -> None:
    """Print the message ``cast`` (``timeout=None``) or ``call`` would publish, exactly, as
    a record: ``vincent cast --dry-run ... | vincent replay -`` sends it."""
    from vincent_cli.records import to_record
    from vincent_core.transport.base import DIRECT_REPLY_TO
    from vincent_core.wire.envelope import build_call, build_cast
    from vincent_core.wire.routing import check_key

    check_key(key)
    # A command sends root messages: no trace header, as the client sends them.
    traced = headers
    if timeout is None:
        envelope = build_cast(exchange, key, body, ttl=ttl, headers=traced)
    else:
        if timeout <= 0:
            raise CommandError("--timeout must be more than 0")
        envelope = build_call(
            exchange, key, body, timeout=timeout, reply_to=DIRECT_REPLY_TO, ttl=ttl, headers=traced
        )
    output.value(to_record(envelope))
