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
    asyncapi,
    call,
    cast,
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
from vincent_cli.exit_codes import INTERRUPTED, OK, REMOTE_ERROR, describe, exit_code_for
from vincent_cli.output.emit import Output, OutputMode
from vincent_cli.runtime import Runtime
from vincent_cli.settings import Flags

__all__ = ["app", "invoke", "run", "version"]

app = typer.Typer(
    name="vincent",
    help="RPC and messaging over AMQP 0-9-1 (RabbitMQ): cast, call, listen, serve.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("vincent-amqp")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


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
    ctx.obj = Runtime(Flags(broker, exchange, context), output)


app.command("cast")(cast.cast)
app.command("call")(call.call)
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
app.command("console")(console.console)
app.command("dev")(dev.dev)


def _silence_stdout() -> None:
    # The reader went away (`vincent listen | head -1`): stop writing, and keep the
    # interpreter from complaining when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def report(exc: BaseException, output: Output) -> int:
    """Print an expected failure as one line (plus hints) and return its exit code; show
    the traceback of anything unexpected (a bug in vincent) and return 1."""
    from vincent_cli.loading import UserCodeError
    from vincent_core.config import mask_text

    code = exit_code_for(exc)
    if code is None:
        import traceback

        output.stderr.write(mask_text("".join(traceback.format_exception(exc))))
        output.error(f"unexpected {type(exc).__name__}: this is a bug in vincent, please report it")
        return REMOTE_ERROR
    if isinstance(exc, UserCodeError):
        output.stderr.write(mask_text(exc.details) + "\n")
    output.error(describe(exc))
    return code


def invoke(argv: Sequence[str] | None = None) -> int:
    """Run ``vincent`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="vincent", standalone_mode=False)
    except typer.Abort:
        Output.for_streams().error("aborted")
        return REMOTE_ERROR
    except typer.TyperException as exc:  # click's usage errors
        usage = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and usage is not None:
            typer.echo(usage.get_help())
            return OK
        where = f" (see '{usage.command_path} --help')" if usage is not None else ""
        Output.for_streams().error(f"{exc.format_message()}{where}")
        return int(getattr(exc, "exit_code", 2))
    except BrokenPipeError:
        _silence_stdout()
        return OK
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        return report(exc, Output.for_streams())
    return result if isinstance(result, int) else OK


def run() -> NoReturn:
    """The console script: ``vincent ...``."""
    sys.exit(invoke())
