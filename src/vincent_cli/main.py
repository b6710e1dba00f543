"""The ``vincent`` command: global options, the commands, and exit codes in one place.

Start-up matters (``vincent cast`` in a shell loop): nothing here imports aio_pika,
aiormq, prompt_toolkit or rich at module level (ruff's banned-module-level-imports
enforces it), nor vincent_core, asyncio or urllib: each command imports what it needs
when it runs, so ``vincent --help`` pays for none of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn

import typer

from vincent_cli.commands import (
    _send,
    asyncapi,
    completions,
    config,
    console,
    dead,
    dev,
    health,
    listen,
    queues,
    record,
    replay,
    routes,
    serve,
    services,
    trace,
)
from vincent_cli.exit_codes import INTERRUPTED, OK, REMOTE_ERROR, report
from vincent_cli.output.emit import Output, OutputMode
from vincent_cli.runtime import PipeClosed, Runtime, silence_stdout
from vincent_cli.settings import Flags
from vincent_cli.version import version

__all__ = ["app", "invoke", "plain_words", "run", "version"]

app = typer.Typer(
    name="vincent",
    help="RPC and messaging over AMQP 0-9-1 (RabbitMQ): cast, call, listen, serve.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"vincent {version()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            "-b",
            metavar="URL",
            help="Broker URL (default: env VINCENT_BROKER_URL, then AMQP_URL, then the "
            "config file, then amqp://guest:guest@localhost:5672/).",
            show_default=False,
        ),
    ] = None,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            metavar="NAME",
            help="Exchange (default: env VINCENT_EXCHANGE, then the config file, then vincent).",
            show_default=False,
        ),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            metavar="NAME",
            help="Use [tool.vincent.contexts.NAME] from pyproject.toml or vincent.toml.",
            show_default=False,
        ),
    ] = None,
    connect_timeout: Annotated[
        float | None,
        typer.Option(
            "--connect-timeout",
            metavar="SECONDS",
            min=0.001,
            help="Seconds to connect and finish the AMQP handshake (default: env "
            "VINCENT_CONNECT_TIMEOUT, then 10).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        OutputMode | None,
        typer.Option(
            "--output",
            help="json: one compact line per result; pretty: indented, coloured on a "
            "terminal; raw: strings unquoted, bytes as is (default: pretty on a "
            "terminal, json in a pipe).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """RPC and messaging over AMQP 0-9-1 (RabbitMQ): cast, call, listen, serve.

    Exit codes: 0 ok, 1 remote error, 2 usage or bad input, 3 timeout, 4 no route,
    5 cannot connect or authenticate, 6 unhealthy (health), 130 interrupted.
    See docs/cli.md.
    """
    if connect_timeout is not None:
        # Through the environment: every client of this command, and the workers that
        # `serve --workers` starts, take it from there.
        os.environ["VINCENT_CONNECT_TIMEOUT"] = repr(connect_timeout)
    ctx.obj = Runtime(Flags(broker, exchange, context), output)


app.command("cast")(_send.cast)
app.command("call")(_send.call)
app.command("listen")(listen.listen)
app.command("record")(record.record)
app.command("replay")(replay.replay)
app.command("serve")(serve.serve)
app.command("routes")(routes.routes)
app.command("asyncapi")(asyncapi.asyncapi)
app.command("queues")(queues.queues)
app.command("health")(health.health)
app.command("trace")(trace.trace)
app.command("services")(services.services)
app.add_typer(dead.app, name="dead")
app.command("config")(config.config)
app.add_typer(completions.app, name="completions")
app.command("console")(console.console)
app.command("dev")(dev.dev)


# typer validates with pydantic, whose phrasing is not vincent's: say it as a person would.
_PYDANTIC = (
    (r"Input should be greater than or equal to (\S+)", r"must be at least \1"),
    (r"Input should be greater than (\S+)", r"must be more than \1"),
    (r"Input should be less than or equal to (\S+)", r"must be at most \1"),
    (r"Input should be less than (\S+)", r"must be less than \1"),
    (r"Input should be a valid integer.*", "must be a whole number"),
    (r"Input should be a valid number.*", "must be a number"),
    (r"Input should be a valid boolean.*", "must be true or false"),
    (r"Value error, ", ""),
)


def plain_words(message: str) -> str:
    """A usage error without pydantic's phrasing: ``Invalid value for '--count' / '-n':
    Input should be greater than or equal to 1`` → ``--count must be at least 1``."""
    import re

    changed = message
    for pattern, replacement in _PYDANTIC:
        changed = re.sub(pattern, replacement, changed)
    if changed == message:
        return message
    option = re.match(r"Invalid value for '([^']+)'(?: / '[^']+')*: (.*)", changed, re.S)
    return f"{option[1]} {option[2]}" if option else changed


def invoke(argv: Sequence[str] | None = None) -> int:
    """Run ``vincent`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    ``cast`` and ``call`` are parsed and run by :mod:`vincent_cli.commands.send` (typer
    only shows their help); global options may follow the command."""
    from vincent_cli.commands.send import dispatch
    from vincent_cli.sendline import hoist_global_options

    arguments = sys.argv[1:] if argv is None else list(argv)
    code = dispatch(arguments)
    if code is not None:
        return code
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=hoist_global_options(arguments), prog_name="vincent", standalone_mode=False
        )
    except typer.Abort:
        Output.for_streams().error("aborted")
        return REMOTE_ERROR
    except typer.TyperException as exc:  # click's usage errors
        usage = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and usage is not None:
            typer.echo(usage.get_help())
            return OK
        where = f" (see '{usage.command_path} --help')" if usage is not None else ""
        Output.for_streams().error(f"{plain_words(exc.format_message())}{where}")
        return int(getattr(exc, "exit_code", 2))
    except (BrokenPipeError, PipeClosed):
        silence_stdout()
        return OK
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        return report(exc, Output.for_streams())
    return result if isinstance(result, int) else OK


def run() -> NoReturn:
    """The console script: ``vincent ...``."""
    sys.exit(invoke())
