"""``cast`` and ``call`` as typer sees them: their help and, through it, the shell
completions. The command lines themselves are parsed by :mod:`vincent_cli.sendline` and
run by :mod:`vincent_cli.commands.send` before typer is even imported; a unit test keeps
the options declared here in step with ``sendline.SEND_OPTIONS``. Should typer run one
of these (a program driving the typer app directly), it hands the same
:class:`~vincent_cli.sendline.SendLine` to the same runner."""

from __future__ import annotations

from typing import Annotated

import typer

from vincent_cli.runtime import get_runtime
from vincent_cli.sendline import SendLine

__all__ = ["call", "cast"]

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
            "merged into the body (a name given twice makes an array); escape = or : in "
            "a name with a backslash."
        ),
        show_default=False,
    ),
]
Ttl = Annotated[
    float | None,
    typer.Option(
        "--ttl",
        metavar="SECONDS",
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


def _run(ctx: typer.Context, line: SendLine) -> None:
    from vincent_cli.commands.send import run

    runtime = get_runtime(ctx)
    flags = runtime.flags
    line.broker, line.exchange, line.context = flags.broker, flags.exchange, flags.context
    line.output = runtime.output_mode.value if runtime.output_mode else None
    code = run(line)
    if code:
        raise typer.Exit(code)


def cast(
    ctx: typer.Context,
    key: Key,
    arguments: Arguments = None,
    ttl: Ttl = None,
    header: Headers = None,
    count: Annotated[
        int, typer.Option("--count", "-n", metavar="N", help="Send the message this many times.")
    ] = 1,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", metavar="N", help="Messages per second with --count.", show_default=False
        ),
    ] = None,
    dry_run: DryRun = False,
    binary: Binary = False,
) -> None:
    """Publish a message to KEY; exit 4 if nothing is bound to it.

    Returns once the broker confirmed every message. On a pipe each message's id is
    printed as a JSON line. Global options (--broker, --exchange, --context, --output)
    may come before or after the command.

    \b
    Examples:
      vincent cast file.encrypt '{"key_id": 1234}'
      vincent cast file.encrypt file=/gfs1/f.dat key_id:=1234 -H x-origin:ops
      vincent cast load.test n:=1 --count 1000 --rate 200
    """
    line = SendLine("cast", key, arguments or [], ttl=ttl, headers=header or [], count=count)
    line.rate, line.dry_run, line.binary = rate, dry_run, binary
    _run(ctx, line)


def call(
    ctx: typer.Context,
    key: Key,
    arguments: Arguments = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", "-t", metavar="SECONDS", help="Seconds to wait for the reply."),
    ] = 10.0,
    ttl: Ttl = None,
    header: Headers = None,
    dry_run: DryRun = False,
    binary: Binary = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also show the request, the reply's properties and headers, and the "
            "latency (on stderr), as --print HBhbm.",
        ),
    ] = False,
    print_: Annotated[
        str,
        typer.Option(
            "--print",
            "-p",
            metavar="WHAT",
            help="What to show, httpie style: H request properties and headers, B request "
            "body, h reply properties and headers, b reply body (stdout), m latency.",
        ),
    ] = "b",
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast",
            help="Exit 3 at once, sending nothing, when the key's queue has no consumers.",
        ),
    ] = False,
) -> None:
    """Send a request to KEY and print the reply.

    JSON replies are pretty on a terminal and one compact line in a pipe; bytes replies
    are written raw to a pipe or file. When the key's queue has no consumers, a warning
    says so at once (with --fail-fast: exit 3 at once). Exit 1 if the handler raised (its
    type, message and traceback go to stderr), 3 on timeout, 4 if nothing is bound to KEY.
    Global options (--broker, --exchange, --context, --output) may come before or after
    the command.

    \b
    Examples:
      vincent call file.get file=/gfs1/f.dat > f.dat
      vincent call user.find '{"id": 7}' | jq .name
      vincent call -v user.find id:=7
    """
    line = SendLine("call", key, arguments or [], ttl=ttl, headers=header or [], timeout=timeout)
    line.dry_run, line.binary, line.fail_fast = dry_run, binary, fail_fast
    line.print = "HBhbm" if verbose else print_
    _run(ctx, line)
