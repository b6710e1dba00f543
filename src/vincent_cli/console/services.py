"""The console's ``ls [PATTERN]`` and ``desc KEY``: what is served, and by what.

On RabbitMQ the management API lists the exchange's bindings (``VINCENT_API_URL`` or
the config file's ``api``, else ``http://<broker host>:15672``, asked with a short
timeout); without it only the ``--app``'s keys are looked up over AMQP. On ``memory://``
(``vincent dev``) the in-process broker knows its bindings: no broker feature needed.
The keys found feed completion.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from vincent_cli.catalog import COLUMNS, ServiceRow, catalog, select
from vincent_cli.console.session import Session
from vincent_cli.output.conversations import safe_text
from vincent_core.app import Vincent
from vincent_core.client import Client
from vincent_core.transport.memory import MemoryTransport
from vincent_core.wire.routing import topic_matches

__all__ = ["ServiceView", "describe_rows", "rows_table"]

#: how long ``ls`` waits for the management API
_API_TIMEOUT = 3.0
_HERE = "this process"


def rows_table(rows: list[ServiceRow]) -> Table:
    """``ls``: one row per key and queue."""
    table = Table(*COLUMNS, box=None, header_style="bold")
    for column in table.columns:
        column.overflow = "fold"
    for row in rows:
        cells = ["" if c is None else safe_text(str(c)) for c in row.cells()]
        style = "yellow" if row.consumers == 0 or row.queue is None else ""
        table.add_row(*cells, style=style)
    return table


def _schema(value: Any) -> RenderableType:
    from rich.json import JSON

    try:
        return JSON(orjson.dumps(value, default=str).decode(), indent=2)
    except TypeError:
        return Text(safe_text(repr(value)))


def describe_rows(rows: list[ServiceRow]) -> RenderableType:
    """``desc KEY``: every known fact about each row of a key."""
    parts: list[RenderableType] = []
    for row in rows:
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bright_black", no_wrap=True)
        facts.add_column(overflow="fold")
        for name, value in row.document().items():
            if name in ("key", "doc", "body_schema", "reply_schema") or value in (None, []):
                continue
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            facts.add_row(name, safe_text(shown))
        parts += [Text(safe_text(row.key), style="bold cyan"), facts]
        if row.doc:
            parts.append(Text(safe_text(row.doc)))
        for title, schema in (("body", row.body_schema), ("reply", row.reply_schema)):
            if schema is not None:
                parts += [Text(f"{title} schema", style="bold"), _schema(schema)]
    return Group(*parts)


def _ignore_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failed prefetch is not worth a warning


class ServiceView:
    """Gathers :class:`ServiceRow` rows for the console's client and app."""

    def __init__(self, client: Client, session: Session, app: Vincent | None = None) -> None:
        self.client = client
        self.session = session
        self.app = app
        self._prefetch: asyncio.Task[Any] | None = None

    def prefetch(self) -> None:
        """Learn the served keys for completion, once, in the background (bounded by the
        API's timeout; a failure only means fewer completions)."""
        if self._prefetch is None:
            self._prefetch = asyncio.create_task(self.rows())
            self._prefetch.add_done_callback(_ignore_failure)

    async def close(self) -> None:
        """Stop learning keys."""
        if self._prefetch is not None and not self._prefetch.done():
            self._prefetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prefetch

    def _listeners(self) -> list[Any]:
        return list(self.app.listeners) if self.app is not None else []

    async def rows(self) -> tuple[list[ServiceRow], str]:
        """Every row, and a note on where they come from (empty when complete)."""
        transport = self.client.transport
        if isinstance(transport, MemoryTransport):
            rows = await self._memory_rows(transport)
            note = ""
        else:
            try:
                rows = await asyncio.wait_for(
                    asyncio.to_thread(self._management_rows), _API_TIMEOUT + 1
                )
                note = ""
            except (OSError, ValueError, KeyError, TimeoutError) as exc:
                rows = await self._amqp_rows()
                note = f"management API not usable ({exc or 'no answer'}): the app's keys only"
        self._learn(rows)
        return rows, note

    def _learn(self, rows: list[ServiceRow]) -> None:
        for key in dict.fromkeys(row.key for row in rows):
            if key not in self.session.app_keys:
                self.session.app_keys.append(key)

    async def _memory_rows(self, transport: MemoryTransport) -> list[ServiceRow]:
        broker = transport.broker
        bindings = [(key, queue) for queue, key in broker.bindings(self.client.exchange)]
        stats: dict[str, tuple[int, int]] = {}
        hosts: dict[str, list[str]] = {}
        for _, queue in bindings:
            info = await self.client.queue_info(queue)
            if info is not None:
                stats[queue] = (info.messages, info.consumers)
                hosts[queue] = [_HERE] * info.consumers
        return catalog(bindings, queues=stats, hosts=hosts, listeners=self._listeners())

    def _management_rows(self) -> list[ServiceRow]:
        from vincent_cli.commands.services import management_catalog
        from vincent_cli.settings import Flags, resolve

        settings = resolve(Flags(broker=self.client.url))
        if not settings.api:
            import urllib.parse

            host = urllib.parse.urlsplit(self.client.url.split(",")[0]).hostname or "localhost"
            settings.api = f"http://{host}:15672"
        return management_catalog(
            settings, self.client.exchange, self._listeners(), timeout=_API_TIMEOUT
        )

    async def _amqp_rows(self) -> list[ServiceRow]:
        from vincent_cli.commands.services import amqp_catalog

        return await amqp_catalog(self.client, self._listeners())

    async def listing(self, pattern: str | None) -> list[RenderableType]:
        """``ls [PATTERN]``: the table (PATTERN: a shell-style glob on keys)."""
        rows, note = await self.rows()
        shown = select(rows, pattern)
        result: list[RenderableType] = [rows_table(shown)] if shown else []
        if not shown:
            nothing = "no key matches" if pattern else "nothing is bound on the exchange"
            result.append(Text(nothing, style="bright_black"))
        if note:
            result.append(Text(note, style="bright_black"))
        return result

    async def description(self, key: str) -> RenderableType | None:
        """``desc KEY``: the rows of a key (or whose pattern the key matches), or None."""
        rows, _ = await self.rows()
        exact = [row for row in rows if row.key == key]
        found = exact or [row for row in rows if topic_matches(row.key, key)]
        return describe_rows(found) if found else None
