"""What is served: the exchange's bindings joined with an app's listeners (no I/O).

``vincent services`` and the console's ``ls`` / ``desc KEY`` gather the facts (the
management API, or the in-process broker of ``vincent dev``) and let :func:`catalog`
join them::

    rows = catalog(bindings, queues={"file.get": (0, 2)}, hosts={"file.get": [...]},
                   listeners=app.listeners)

A listener joins the bindings with its key. A listener nobody serves yet (no binding)
is a row too, with no queue; a binding no listener of the app declares is a row with
no handler. The console's and ``listen``'s own tap queues are left out.
"""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLUMNS", "ServiceRow", "catalog", "is_tap_queue", "select"]

#: the columns of the table (a pipe gets every field of :class:`ServiceRow`)
COLUMNS = ("key", "queue", "messages", "consumers", "hosts", "handler", "route_to", "retries")
_TAP_PREFIXES = ("vincent.tap.", "vincent.trace.")
#: attribute names a listener may carry its schemas under (typed handlers)
_BODY_SCHEMA = ("body_schema", "request_schema")
_REPLY_SCHEMA = ("reply_schema", "return_schema", "response_schema")


@dataclass(slots=True)
class ServiceRow:
    """One key served (or declared): where it goes, who consumes, what handles it."""

    key: str
    queue: str | None = None
    messages: int | None = None
    consumers: int | None = None
    hosts: list[str] = field(default_factory=list)
    handler: str | None = None
    route_to: str | None = None
    retries: int | None = None
    doc: str | None = None
    body_schema: Any = None
    reply_schema: Any = None

    def cells(self) -> tuple[Any, ...]:
        """The table's cells, in :data:`COLUMNS` order."""
        hosts = ", ".join(sorted(set(self.hosts))) if self.hosts else None
        return (
            self.key,
            self.queue,
            self.messages,
            self.consumers,
            hosts,
            self.handler,
            self.route_to,
            self.retries,
        )

    def document(self) -> dict[str, Any]:
        """Every field, for a JSON line."""
        return {
            "key": self.key,
            "queue": self.queue,
            "messages": self.messages,
            "consumers": self.consumers,
            "hosts": sorted(set(self.hosts)),
            "handler": self.handler,
            "route_to": self.route_to,
            "retries": self.retries,
            "doc": self.doc,
            "body_schema": self.body_schema,
            "reply_schema": self.reply_schema,
        }


def is_tap_queue(name: str) -> bool:
    """A ``listen``, ``trace`` or console tap's private queue (not a service)."""
    return name.startswith(_TAP_PREFIXES)


def _schema(listener: Any, names: Sequence[str]) -> Any:
    for name in names:
        value = getattr(listener, name, None)
        if callable(value):
            value = value()
        if value is not None:
            return value
    return None


def _doc(listener: Any) -> str | None:
    handler = getattr(listener, "handler", None)
    owner = getattr(handler, "__self__", None)
    doc = inspect.getdoc(handler) if handler is not None else None
    if not doc and owner is not None:
        doc = inspect.getdoc(type(owner))
    return doc or None


def _describe(row: ServiceRow, listener: Any) -> None:
    row.handler = getattr(listener, "name", None) or None
    row.route_to = getattr(listener, "route_to", None)
    row.retries = getattr(listener, "retries", None)
    row.doc = _doc(listener)
    row.body_schema = _schema(listener, _BODY_SCHEMA)
    row.reply_schema = _schema(listener, _REPLY_SCHEMA)
    declared = getattr(listener, "schema", None)  # a vincent Listener: typed handlers
    if declared is not None and row.body_schema is None and row.reply_schema is None:
        # (a type pydantic cannot describe: no schema, no crash)
        with contextlib.suppress(Exception):
            row.body_schema, row.reply_schema = declared.request, declared.reply


def _serving(listeners: list[Any], queue: str) -> Any:
    """Of the listeners on one key, the one whose queue this is (else the first)."""
    for listener in listeners:
        base = getattr(listener, "queue", None) or listener.key
        route_to = getattr(listener, "route_to", "one")
        if (
            (route_to == "one" and queue == base)
            or (route_to == "host" and queue.startswith(f"{base}."))
            or (route_to == "all" and queue.startswith(f"{base}.all."))
        ):
            return listener
    return listeners[0]


def catalog(
    bindings: Iterable[tuple[str, str]],
    *,
    queues: Mapping[str, tuple[int, int]] | None = None,
    hosts: Mapping[str, list[str]] | None = None,
    listeners: Iterable[Any] = (),
) -> list[ServiceRow]:
    """Rows for ``(key, queue)`` bindings, with ``queues`` (name → ready messages,
    consumers), consumer ``hosts`` (name → one per consumer) and the app's
    ``listeners`` joined by key; sorted by key, then queue."""
    queues = queues or {}
    hosts = hosts or {}
    by_key: dict[str, list[Any]] = {}
    for listener in listeners:
        by_key.setdefault(str(listener.key), []).append(listener)
    rows: list[ServiceRow] = []
    joined: set[str] = set()
    for key, queue in bindings:
        if is_tap_queue(queue):
            continue
        messages, consumers = queues.get(queue, (None, None))
        row = ServiceRow(key, queue, messages, consumers, list(hosts.get(queue, [])))
        if key in by_key:
            _describe(row, _serving(by_key[key], queue))
            joined.add(key)
        rows.append(row)
    for key, declared in by_key.items():
        if key not in joined:
            for listener in declared:
                row = ServiceRow(key)
                _describe(row, listener)
                rows.append(row)
    return sorted(rows, key=lambda row: (row.key, row.queue or ""))


def select(rows: Iterable[ServiceRow], pattern: str | None) -> list[ServiceRow]:
    """The rows whose key matches the shell-style glob ``pattern`` (all for ``None``)."""
    return [row for row in rows if pattern is None or fnmatch.fnmatchcase(row.key, pattern)]
