"""Tracing across nested calls: one id per request tree, and the chain of callers.

Every message vincent sends while handling another carries ``x-vincent-trace``: a
field table ``{"id": "<32 hex>", "chain": ["file.encrypt", ...]}``. It keeps the handled
message's trace id and appends the handled message's key to the chain, so any message
tells which request tree it belongs to and through which handlers it came. A root
message (sent outside any handler) carries no header: its ``message_id`` is its trace
id, so the tree needs no second id.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TRACE_HEADER",
    "Trace",
    "TraceLogFilter",
    "current_trace",
    "read_trace",
]

TRACE_HEADER = "x-vincent-trace"
_MAX_CHAIN = 32


@dataclass(frozen=True, slots=True)
class Trace:
    """Where a message sits in a request tree."""

    id: str
    chain: tuple[str, ...] = ()

    @classmethod
    def new(cls) -> Trace:
        """The root of a new tree."""
        return cls(uuid.uuid4().hex)

    def child(self, via_key: str) -> Trace:
        """The trace of a message sent while handling a message with key ``via_key``."""
        return Trace(self.id, (*self.chain, via_key)[-_MAX_CHAIN:])

    def header(self) -> dict[str, Any]:
        """The header value."""
        return {"id": self.id, "chain": list(self.chain)}

    def __str__(self) -> str:
        return " > ".join((*self.chain, f"[{self.id[:8]}]")) if self.chain else self.id[:8]


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def read_trace(headers: Mapping[str, Any] | None) -> Trace | None:
    """The trace a message carries, or ``None`` (foreign or malformed)."""
    if not headers:
        return None
    value = headers.get(TRACE_HEADER)
    if not isinstance(value, Mapping) or not value.get("id"):
        return None
    chain = value.get("chain") or []
    if not isinstance(chain, list | tuple):
        chain = []
    return Trace(_text(value["id"]), tuple(_text(part) for part in chain))


#: the trace of the message being handled in this task or thread
current_trace: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "vincent_trace", default=None
)


class TraceLogFilter(logging.Filter):
    """Adds ``trace_id`` and ``trace_chain`` to log records made while handling a message."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace = current_trace.get()
        record.trace_id = trace.id if trace else ""
        record.trace_chain = " > ".join(trace.chain) if trace else ""
        return True
