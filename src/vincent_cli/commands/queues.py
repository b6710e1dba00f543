"""``vincent queues [PATTERN]``: queues with their depth and consumer count."""

from __future__ import annotations

import contextlib
import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.exit_codes import CommandError
from vincent_cli.management import get_json, vhost_of
from vincent_cli.output.emit import Output
from vincent_cli.runtime import SignalStop, get_runtime, run_async
from vincent_cli.settings import Settings

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["QueueRow", "management_queues", "queues"]

_GLOB = set("*?[")
COLUMNS = ("name", "messages", "consumers")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One queue: ready messages and consumers."""

    name: str
    messages: int
    consumers: int


def management_queues(settings: Settings, timeout: float = 5.0) -> list[QueueRow]:
    """Every queue of the broker URL's vhost, from the management HTTP API."""
    import urllib.parse

    vhost = urllib.parse.quote(vhost_of(settings.url), safe="")
    path = f"/api/queues/{vhost}?columns=name,messages_ready,consumers"
    data = get_json(settings, path, timeout)
    return [
        QueueRow(str(q["name"]), int(q.get("messages_ready") or 0), int(q.get("consumers") or 0))
        for q in data
    ]


def _app_queues(target: str) -> tuple[list[str], str]:
    from vincent_cli.loading import load_app

    app = load_app(target)
    names = [listener.queue_name() for listener in app.listeners if listener.route_to != "all"]
    return names, app.dead_letter_queue


async def _collect(
    client: Client,
    settings: Settings,
    pattern: str | None,
    app_target: str | None,
    output: Output,
) -> list[QueueRow]:
    import asyncio

    if pattern is not None and not (_GLOB & set(pattern)):
        info = await client.queue_info(pattern)
        if info is None:
            raise CommandError(f"no queue named {pattern!r} on {settings.masked_url}")
        return [QueueRow(info.name, info.messages, info.consumers)]
    rows: dict[str, QueueRow] = {}
    if settings.api:
        try:
            listed = await asyncio.to_thread(management_queues, settings)
        except (OSError, ValueError, KeyError, CommandError) as exc:  # URLError: an OSError
            from vincent_cli.exit_codes import describe

            output.warning(f"management API at {settings.api} not usable: {describe(exc)}")
        else:
            rows.update((row.name, row) for row in listed)
    names = [settings.dead_letter_queue]
    if app_target:
        app_names, dead_letter_queue = _app_queues(app_target)
        names = [dead_letter_queue, *app_names]
    for name in names:
        if name not in rows:
            info = await client.queue_info(name)
            if info is not None:
                rows[name] = QueueRow(info.name, info.messages, info.consumers)
    selected = [
        row for row in rows.values() if pattern is None or fnmatch.fnmatchcase(row.name, pattern)
    ]
    return sorted(selected, key=lambda row: row.name)


def queues(
    ctx: typer.Context,
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATTERN]",
            help="A queue name, or a shell-style glob (file.*).",
            show_default=False,
        ),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option(
            "--app", metavar="MODULE:OBJ", help="Also show this app's queues.", show_default=False
        ),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            metavar="URL",
            help="Management API (http://host:15672) to list every queue; env VINCENT_API_URL.",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until interrupted.")] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", metavar="SECONDS", min=0.1, help="Seconds between refreshes with --watch."
        ),
    ] = 2.0,
) -> None:
    """Queues with their ready messages and consumers.

    AMQP cannot list queues: without PATTERN this shows the dead-letter queue, the
    queues of --app, and every queue when the management API is reachable (--api). An
    exact name is always looked up directly over AMQP (exit 2 if it does not exist).

    \b
    Examples:
      vincent queues file.get
      vincent queues --app examples.files:app
      vincent queues 'file.*' --api http://localhost:15672 --watch
    """
    runtime = get_runtime(ctx)
    settings = runtime.settings(api=api)
    output = runtime.output
    code = run_async(
        _queues(runtime.client(settings), settings, pattern, app, output, watch, interval)
    )
    raise typer.Exit(code)


async def _queues(
    client: Client,
    settings: Settings,
    pattern: str | None,
    app: str | None,
    output: Output,
    watch: bool,
    interval: float,
) -> int:
    async with client:
        if not watch:
            rows = await _collect(client, settings, pattern, app, output)
            output.rows(COLUMNS, [(r.name, r.messages, r.consumers) for r in rows])
            if not rows and not app and not settings.api:
                output.info(
                    "AMQP cannot list queues: name one, or add --app MODULE:OBJ or --api URL"
                )
            return 0
        stop = SignalStop()
        with stop.installed():
            await _watch(client, settings, pattern, app, output, interval, stop)
        return stop.exit_code or 0


async def _watch(
    client: Client,
    settings: Settings,
    pattern: str | None,
    app: str | None,
    output: Output,
    interval: float,
    stop: SignalStop,
) -> None:
    import asyncio

    live = None
    if output.pretty and output.stdout_tty:
        from rich.live import Live

        live = Live(console=output.console(), auto_refresh=False)
        live.start()
    try:
        while not stop.event.is_set():
            rows = [
                (r.name, r.messages, r.consumers)
                for r in await _collect(client, settings, pattern, app, output)
            ]
            if live is not None:
                from vincent_cli.output.views import table

                live.update(table(COLUMNS, rows), refresh=True)
            else:
                output.rows(COLUMNS, rows)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.event.wait(), interval)
    finally:
        if live is not None:
            live.stop()
