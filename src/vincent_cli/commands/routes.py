"""``vincent routes MODULE:OBJ``: the app's listeners."""

from __future__ import annotations

from typing import Annotated

import typer

from vincent_cli.runtime import get_runtime

__all__ = ["Target", "routes"]

Target = Annotated[
    str,
    typer.Argument(
        metavar="MODULE:OBJ", help="The app, e.g. examples.files:app.", show_default=False
    ),
]


def routes(ctx: typer.Context, target: Target) -> None:
    """List the app's listeners: key, queue, route_to, handler.

    On a terminal a table; in a pipe one JSON object per listener.

    \b
    Example:
      vincent routes examples.files:app
    """
    from vincent_cli.loading import load_app

    runtime = get_runtime(ctx)
    app = load_app(target)
    rows = [(r.key, r.queue, r.route_to, r.handler) for r in app.routes()]
    runtime.output.rows(("key", "queue", "route_to", "handler"), rows)
