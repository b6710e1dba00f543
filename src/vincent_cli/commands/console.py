"""``vincent console``: the interactive developer console (lives in vincent_cli.console)."""

from __future__ import annotations

from types import ModuleType
from typing import Annotated

import typer

from vincent_cli.runtime import get_runtime

__all__ = ["console", "console_module"]


def console_module() -> ModuleType:
    """``vincent_cli.console.app``, or a usage error (exit 2) while it does not exist."""
    from vincent_cli.exit_codes import CommandError

    try:
        import vincent_cli.console.app as module
    except ModuleNotFoundError as exc:
        if exc.name not in ("vincent_cli.console", "vincent_cli.console.app"):
            raise
        raise CommandError("the console is not available in this build") from None
    return module


def console(
    ctx: typer.Context,
    app: Annotated[
        str | None,
        typer.Option(
            "--app", metavar="MODULE:OBJ", help="Also run this app in-process.", show_default=False
        ),
    ] = None,
) -> None:
    """The interactive developer console: cast, call, history, replay, show.

    Tapped traffic prints above the prompt and every message gets a number, for show,
    replay, edit and save; `help` at the prompt lists the commands (docs/console.md).
    Without a terminal, commands are read line by line from stdin.

    \b
    Examples:
      vincent console
      vincent console --app examples.files:app
      echo 'call file.get file=hello.txt' | vincent console
    """
    settings = get_runtime(ctx).settings()
    code = console_module().run_console(url=settings.url, exchange=settings.exchange, app_ref=app)
    raise typer.Exit(code)
