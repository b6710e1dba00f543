"""``vincent config``: the settings in effect and where each came from."""

from __future__ import annotations

import typer

from vincent_cli.runtime import get_runtime

__all__ = ["config"]


def config(ctx: typer.Context) -> None:
    """Show the resolved settings and where each came from (password masked).

    Sources, highest first: flags, the --context, environment (VINCENT_BROKER_URL then
    AMQP_URL, VINCENT_EXCHANGE, VINCENT_API_URL), a context named by VINCENT_CONTEXT or
    the file, [tool.vincent] in the nearest pyproject.toml or vincent.toml, defaults.

    \b
    Example:
      vincent --context prod config
    """
    runtime = get_runtime(ctx)
    settings = runtime.settings()
    runtime.output.rows(("name", "value", "source"), settings.rows())
