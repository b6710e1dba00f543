"""``vincent dev MODULE:OBJ``: the app and the console in one process on memory://."""

from __future__ import annotations

import typer

from vincent_cli.commands.console import console_module
from vincent_cli.commands.routes import Target
from vincent_cli.runtime import get_runtime

__all__ = ["dev"]


def dev(ctx: typer.Context, target: Target) -> None:
    """Run the app and the console in one process on memory:// (no broker needed).

    The console taps all traffic from the start, so the app's own casts and nested calls
    show too. Without a terminal, commands are read line by line from stdin.

    \b
    Examples:
      vincent dev examples.files:app
      printf 'call file.get file=hello.txt\\n' | vincent dev examples.files:app
    """
    settings = get_runtime(ctx).settings()
    code = console_module().run_dev(app_ref=target, exchange=settings.exchange)
    raise typer.Exit(code)
