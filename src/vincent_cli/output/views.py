"""rich renderables for the terminal: tables, the live traffic line, progress bars.

Only imported when stdout or stderr is a terminal (or ``--output pretty``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from vincent_cli.output.emit import human_size
from vincent_cli.output.terminal import terminal_text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.measure import Measurement

    from vincent_core.wire.envelope import Envelope

__all__ = ["live_line", "progress_bar", "short_body", "table"]

STATUS_HEADER = "x-vincent-status"


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")
# scheme://user:password@ | host:port/ | path parts/ | ?query&parts
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?)([^/?#\s]*/?)(\S*)$", re.I)


class _Parts:
    """A cell that wraps only between its parts, as a person reads them: a timestamp
    stays whole; a URL breaks after its credentials, the dots of its host and its path
    segments, never inside ``label:port/``. A part longer than the column still folds."""

    def __init__(self, parts: Sequence[str]) -> None:
        self.parts = [part for part in parts if part]

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        longest = max((len(part) for part in self.parts), default=0)
        total = sum(len(part) for part in self.parts)
        return Measurement(min(longest, options.max_width), min(total, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        lines: list[str] = []
        line = ""
        for part in self.parts:
            if line and len(line) + len(part) > width:
                lines.append(line)
                line = ""
            while len(line) + len(part) > width:
                cut = width - len(line)
                lines.append(line + part[:cut])
                line, part = "", part[cut:]
            line += part
        lines.append(line)
        yield Text("\n".join(lines), no_wrap=True)


def _cell(value: Any) -> Text | _Parts:
    text = "" if value is None else terminal_text(value)
    if _TIMESTAMP.fullmatch(text):
        return _Parts([text])
    url = _URL.match(text)
    if url is not None:
        # The host breaks after a dot; its last label stays with the port.
        host = re.findall(r"[^.]+\.?|\.", url[2])
        rest = re.findall(r"[^/?&]*[/?&]?", url[3])
        return _Parts([url[1], *host, *rest])
    # Text, never markup: cells hold keys, errors and paths ("[tool.vincent]").
    return Text(text)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> Table:
    """A plain table with a header row; numbers right-aligned; URLs and timestamps wrap
    only where a person would break them. Cells are text, never markup, with control
    characters escaped (they may come from a message)."""
    result = Table(
        box=box.SIMPLE_HEAD,
        title=Text(terminal_text(title)) if title else None,
        title_justify="left",
    )
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(columns))
    ]
    cells = [[_cell(cell) for cell in row] for row in rows]
    for index, (name, right) in enumerate(zip(columns, numeric, strict=True)):
        # rich shrinks a column below its cells' measure when the table is too wide;
        # a minimum width keeps the parts whole.
        column = [row[index] for row in cells]
        parts = [len(p) for cell in column if isinstance(cell, _Parts) for p in cell.parts]
        result.add_column(
            name,
            justify="right" if right else "left",
            overflow="fold",
            min_width=max(parts) if parts else None,
        )
    for row in cells:
        result.add_row(*row)
    return result


def short_body(envelope: Envelope, limit: int = 60) -> str:
    """The body on one line, cut to ``limit`` characters; bytes as a size note; control
    characters escaped."""
    from vincent_core.wire.codec import UndecodableBody, decode_body

    try:
        value = decode_body(envelope.body, envelope.content_type)
    except UndecodableBody:
        value = envelope.body
    if isinstance(value, bytes):
        kind = envelope.content_type or "no content type"
        return terminal_text(f"<{human_size(len(value))}, {kind}>")
    text = terminal_text(orjson.dumps(value).decode(), json=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markers(envelope: Envelope) -> Text:
    markers = Text()
    status = envelope.headers.get(STATUS_HEADER)
    if isinstance(status, bytes | bytearray):
        status = bytes(status).decode("utf-8", "replace")
    if status is not None:
        status = terminal_text(status)
    correlation_id = terminal_text(envelope.correlation_id or "")
    if envelope.reply_to:
        markers.append("→ call", style="magenta")
        if correlation_id:
            markers.append(f" #{correlation_id[:8]}", style="dim")
    elif status is not None or (envelope.correlation_id and not envelope.reply_to):
        markers.append(
            f"← reply {status or ''}".rstrip(), style="red" if status == "error" else "green"
        )
        if correlation_id:
            markers.append(f" #{correlation_id[:8]}", style="dim")
    return markers


def _trace(envelope: Envelope) -> Text:
    """``via file.encrypt > file.get [9f0c1a2b]`` (the callers, then the trace id)."""
    from vincent_core.wire.trace import read_trace

    trace = read_trace(envelope.headers)
    if trace is None:
        return Text()
    text = Text()
    if trace.chain:
        text.append("via ", style="dim")
        text.append(terminal_text(" > ".join(trace.chain)), style="yellow")
        text.append(" ")
    text.append(f"[{terminal_text(trace.id[:8])}]", style="dim")
    return text


def live_line(envelope: Envelope, received: dt.datetime, width: int = 100) -> Text:
    """``12:03:04.123  file.get  {"file": "a"}  → call #ab12cd34  via file.encrypt [9f0c1a2b]``."""
    line = Text()
    line.append(received.astimezone().strftime("%H:%M:%S.%f")[:-3], style="dim")
    line.append("  ")
    line.append(terminal_text(envelope.routing_key or "(no key)"), style="bold cyan")
    line.append("  ")
    markers = _markers(envelope)
    trace = _trace(envelope)
    room = max(20, width - len(line) - len(markers) - len(trace) - 4)
    line.append(short_body(envelope, room))
    for part in (markers, trace):
        if part:
            line.append("  ")
            line.append_text(part)
    return line


def progress_bar(console: Console) -> Progress:
    """A progress bar on ``console`` (stderr) for ``cast --count`` and ``replay``."""
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
