"""``vincent services [PATTERN]``: every key served on the exchange, and by what.

The management API lists the exchange's bindings (AMQP cannot), with each queue's depth,
consumers and the hosts they connect from; ``--app MODULE:OBJ`` joins the app's handler
names, docstrings, ``route_to``, retries and schemas (see :mod:`vincent_cli.catalog`).
Without the API, the app's own keys are looked up over AMQP, one queue at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from vincent_cli.exit_codes import CommandError
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_cli.catalog import ServiceRow
    from vincent_cli.output.emit import Output
    from vincent_cli.settings import Settings
    from vincent_core.client import Client

__all__ = ["amqp_catalog", "management_catalog", "service_keys", "services"]

_API_TIMEOUT = 5.0


def management_catalog(
    settings: Settings, exchange: str, listeners: list[Any], timeout: float = _API_TIMEOUT
) -> list[ServiceRow]:
    """Every binding on ``exchange`` from the management API, joined with ``listeners``
    (blocking: run it in a thread)."""
    from vincent_cli.catalog import catalog
    from vincent_cli.commands.queues import management_queues
    from vincent_cli.management import exchange_bindings, queue_consumers

    assert settings.api is not None
    bindings = exchange_bindings(settings, exchange, timeout)
    stats = {
        row.name: (row.messages, row.consumers) for row in management_queues(settings, timeout)
    }
    hosts = queue_consumers(settings, timeout)
    return catalog(
        [(b.key, b.queue) for b in bindings], queues=stats, hosts=hosts, listeners=listeners
    )


def service_keys(settings: Settings, timeout: float = 1.0) -> list[str]:
    """The keys bound on the exchange, for completion: quick, and empty on any failure
    (no management API configured, or no answer within ``timeout``)."""
    return sorted({row.key for row in _key_rows(settings, timeout)})


def _key_rows(settings: Settings, timeout: float = 1.0) -> list[ServiceRow]:
    """The bindings alone (one request): enough for keys."""
    from vincent_cli.catalog import catalog
    from vincent_cli.management import exchange_bindings

    if not settings.api:
        return []
    try:
        bindings = exchange_bindings(settings, settings.exchange, timeout)
    except (OSError, ValueError, KeyError, CommandError):  # URLError, timeouts: OSErrors
        return []
    return catalog([(b.key, b.queue) for b in bindings])


async def amqp_catalog(client: Client, listeners: list[Any]) -> list[ServiceRow]:
    """The listeners' queues looked up over AMQP, one passive declare each (no
    management API needed; per-process ``route_to="all"`` queues have no name to ask)."""
    from vincent_cli.catalog import catalog

    bindings: list[tuple[str, str]] = []
    stats: dict[str, tuple[int, int]] = {}
    for listener in listeners:
        if listener.route_to == "all":
            continue
        info = await client.queue_info(listener.queue_name())
        if info is not None:
            bindings.append((listener.key, info.name))
            stats[info.name] = (info.messages, info.consumers)
    return catalog(bindings, queues=stats, listeners=listeners)


def services(
    ctx: typer.Context,
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATTERN]",
            help="Only keys matching this shell-style glob (file.*).",
            show_default=False,
        ),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            metavar="MODULE:OBJ",
            help="Join with this app's handlers, docstrings, route_to, retries and schemas.",
            show_default=False,
        ),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            metavar="URL",
            help="Management API (http://host:15672) to list bindings; env VINCENT_API_URL.",
            show_default=False,
        ),
    ] = None,
    keys: Annotated[
        bool,
        typer.Option(
            "--keys",
            help="Only the bound keys, one per line, for shell completion: nothing (and "
            "exit 0) when the management API does not answer within a second.",
        ),
    ] = False,
) -> None:
    """What is served on the exchange: each bound key with its queue, depth, consumers
    and their hosts (management API), and with --app the handler that serves it.

    Without the management API only --app's keys can be looked up (over AMQP). Piped,
    one JSON object per key, with the handler's docstring and schemas when known.

    \b
    Examples:
      vincent services --api http://localhost:15672
      vincent services 'file.*' --app examples.files:app
    """
    runtime = get_runtime(ctx)
    settings = runtime.settings(api=api)
    if keys:
        from vincent_cli.catalog import select

        found = [row.key for row in select(_key_rows(settings), pattern)]
        runtime.output.stdout.write("".join(f"{key}\n" for key in dict.fromkeys(found)))
        return
    if not settings.api and not app:
        raise CommandError(
            "vincent services lists bindings through the management API: give --api URL "
            "(or VINCENT_API_URL), or --app MODULE:OBJ to look up an app's keys"
        )
    listeners: list[Any] = []
    if app:
        from vincent_cli.loading import load_app

        listeners = list(load_app(app).listeners)
    output = runtime.output
    client = runtime.client(settings)
    from vincent_cli.catalog import select

    rows = run_async(_collect(client, settings, listeners, output))
    _show(select(rows, pattern), output)


async def _collect(
    client: Client, settings: Settings, listeners: list[Any], output: Output
) -> list[ServiceRow]:
    import asyncio

    if settings.api:
        try:
            return await asyncio.to_thread(management_catalog, settings, client.exchange, listeners)
        except (OSError, ValueError, KeyError) as exc:  # URLError is an OSError
            if not listeners:
                raise CommandError(f"management API at {settings.api} not usable: {exc}") from None
            output.warning(f"management API at {settings.api} not usable: {exc}")
    async with client:
        return await amqp_catalog(client, listeners)


def _show(rows: list[ServiceRow], output: Output) -> None:
    from vincent_cli.catalog import COLUMNS

    if output.pretty:
        from vincent_cli.output.conversations import safe_text

        cells = [
            tuple(safe_text(c) if isinstance(c, str) else c for c in row.cells()) for row in rows
        ]
        output.rows(COLUMNS, cells)
        if not rows:
            output.info("nothing is bound on the exchange")
    else:
        for row in rows:
            output.line(row.document())
