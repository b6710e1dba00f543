"""How a finished conversation is shown: one JSON object (pipes) or one line (terminals).

The JSON object is the contract's (docs/cli.md, ``vincent trace``)::

    {"ts", "kind": "call"|"cast", "key", "status", "latency_ms", "correlation_id",
     "trace_id", "request": <record>, "reply": <record>|null, "chain": [...],
     "queues": [...]}

``request`` and ``reply`` are record lines (the format ``listen`` writes and ``replay``
reads); ``chain`` is the request's trace chain and ``queues`` where it was routed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson

from vincent_cli.output.emit import human_size

if TYPE_CHECKING:
    from rich.text import Text

    from vincent_core.wire.conversation import Conversation
    from vincent_core.wire.firehose import Published

__all__ = ["conversation_document", "conversation_line", "error_of", "safe_text"]

# C0 and C1 control characters (and DEL) as visible escapes: text from the wire is
# never written raw onto a terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}

_STATUS_STYLE = {"ok": "green", "error": "bold red", "timeout": "yellow", "cast": "blue"}


def safe_text(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``)."""
    return text.translate(_CONTROLS)


def _when(published: Published) -> dt.datetime:
    return dt.datetime.fromtimestamp(published.wall or 0.0, dt.UTC)


def conversation_document(conversation: Conversation) -> dict[str, Any]:
    """The conversation as the JSON object ``vincent trace`` prints on a pipe."""
    from vincent_cli.records import to_record

    request, reply = conversation.request, conversation.reply
    latency = conversation.latency
    trace = conversation.trace
    return {
        "ts": _when(request).isoformat(timespec="microseconds"),
        "kind": conversation.kind,
        "key": conversation.key,
        "status": conversation.status,
        "latency_ms": None if latency is None else round(latency * 1000, 3),
        "correlation_id": conversation.correlation_id,
        "trace_id": trace.id or None,
        "request": to_record(request.envelope, _when(request)),
        "reply": None if reply is None else to_record(reply.envelope, _when(reply)),
        "chain": list(trace.chain),
        "queues": list(conversation.queues),
    }


def error_of(conversation: Conversation) -> tuple[str, str] | None:
    """``(type, message)`` of an ``error`` reply, as far as its body tells."""
    if conversation.status != "error" or conversation.reply is None:
        return None
    try:
        body = orjson.loads(conversation.reply.envelope.body)
    except orjson.JSONDecodeError:
        return "error", ""
    if not isinstance(body, dict):
        return "error", str(body)
    return str(body.get("type") or "error"), str(body.get("message") or "")


def _latency(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def conversation_line(conversation: Conversation, *, indent: int = 0) -> Text:
    """``12:03:04.120  file.get  ← ok  3.2 ms  via file.encrypt [9f0c1a2b]  12 B → 1.2 KiB``.

    ``←`` marks a reply's outcome, ``→`` a cast or a call nobody answered; an error
    shows the remote type and message in red, a cast the queues it reached.
    """
    from rich.text import Text

    request = conversation.request
    line = Text("  " * indent)
    line.append(_when(request).astimezone().strftime("%H:%M:%S.%f")[:-3], style="dim")
    line.append("  ")
    line.append(safe_text(conversation.key) or "(no key)", style="bold cyan")
    line.append("  ")
    status = conversation.status
    # ← for what came back, → for what only went out (a cast, a call never answered)
    line.append("← " if conversation.reply is not None else "→ ", style="magenta")
    line.append(status, style=_STATUS_STYLE[status])
    latency = _latency(conversation.latency)
    if latency:
        line.append(f"  {latency}")
    error = error_of(conversation)
    if error is not None:
        line.append(f"  {safe_text(error[0])}: {safe_text(error[1])}", style="red")
    if conversation.kind == "cast":
        queues = ", ".join(safe_text(q) for q in conversation.queues) or "no queue"
        line.append(f"  to {queues}", style="blue")
    elif request.queues == ():
        line.append("  (routed to no queue)", style="yellow")
    trace = conversation.trace
    if trace.chain:
        line.append("  via ", style="dim")
        line.append(safe_text(" > ".join(trace.chain)), style="yellow")
    if trace.id:
        line.append(f" [{safe_text(trace.id[:8])}]", style="dim")
    size = human_size(request.size)
    if conversation.reply is not None:
        size += f" → {human_size(conversation.reply.size)}"
    line.append(f"  {size}", style="dim")
    return line
