"""What the console prints: rich renderables for messages, replies, errors and tables.

Everything here is pure: a function takes data and returns a renderable, so tests
render with ``Console(file=io.StringIO(), width=..., color_system=None)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from vincent_cli.console.grammar import ALIASES, COMMANDS, CommandSpec
from vincent_cli.console.session import Entry, decoded
from vincent_cli.output.terminal import json_text, terminal_text
from vincent_cli.records import encode_header_value
from vincent_core.errors import RemoteError
from vincent_core.transport.base import QueueInfo
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.failures import DEAD_HEADERS

__all__ = [
    "body_view",
    "dead_letters_table",
    "detail",
    "failure",
    "help_command",
    "help_overview",
    "note",
    "outcome",
    "queues_table",
    "remote_details",
    "remote_error",
    "routes_table",
    "snippet",
    "summary",
]

_GLYPH = {"sent": "→", "seen": "←", "loaded": "·", "dead": "✗"}
_GLYPH_STYLE = {"sent": "cyan", "dead": "red"}
_OUTCOME_STYLE = {
    "ok": "green",
    "sent": "green",
    "error": "red",
    "timeout": "yellow",
    "no route": "yellow",
    "failed": "red",
    "cancelled": "yellow",
}
#: the longest body shown on one line, in characters (when the width is not known)
SNIPPET = 80
#: the shortest cut of a body, however narrow the terminal
_SHORTEST = 16


def _binary_note(body: bytes, content_type: str | None) -> str:
    return terminal_text(f"<{len(body)} bytes, {content_type or 'no content type'}>")


def snippet(envelope: Envelope, limit: int = SNIPPET) -> Text:
    """The body on one line: compact JSON, or a note on a binary body."""
    value = decoded(envelope)
    if isinstance(value, bytes):
        return Text(_binary_note(value, envelope.content_type), style="magenta")
    text = terminal_text(orjson.dumps(value).decode(), json=True)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text, style="bright_black" if text == "{}" else "")


def _elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f" {seconds * 1000:.0f} ms" if seconds < 10 else f" {seconds:.1f} s"


def summary(entry: Entry, *, show_reply: bool = True, width: int | None = None) -> Text:
    """One history line: number, time, direction, kind, key, body, outcome.

    With ``width`` (a terminal's), the line is cut to fit in it, so the terminal never
    wraps it: the reply's snippet gives way first, then the outcome's detail, then the
    body, each cut with ``…``; where even that leaves less than 16 columns of body, the
    time goes too.
    """
    line = Text()
    line.append(f"{entry.number:>4} ", style="bold")
    clock = Text(entry.at.astimezone().strftime("%H:%M:%S "), style="bright_black")
    line.append(f"{_GLYPH[entry.origin]} ", style=_GLYPH_STYLE.get(entry.origin, "blue"))
    line.append("call " if entry.is_call else "cast ", style="bright_black")
    line.append(terminal_text(entry.key), style="bold cyan")
    line.append(" ")
    marks = Text()
    if entry.echo_of is not None:
        marks.append(f"  (#{entry.echo_of})", style="bright_black")
    if entry.source is not None:
        marks.append(f"  (from #{entry.source})", style="bright_black")
    detail, reply = Text(), Text()
    if entry.outcome not in (None, "sending", "waiting", "sent"):
        marks.append(f"  {entry.outcome}", style=_OUTCOME_STYLE.get(entry.outcome, ""))
        marks.append(_elapsed(entry.elapsed), style="bright_black")
        if entry.detail:
            detail.append(f": {terminal_text(entry.detail)}", style="bright_black")
        if show_reply and entry.reply is not None and entry.outcome == "ok":
            reply.append(" ")
            reply.append_text(snippet(entry.reply, _REPLY))
    if width is None:
        line = Text.assemble(line[:5], clock, line[5:])
        body = snippet(entry.envelope)
    else:
        body = snippet(entry.envelope, limit=10**9)
        room = width - 1 - line.cell_len - marks.cell_len
        if room - clock.cell_len >= _SHORTEST:
            room -= clock.cell_len
            line = Text.assemble(line[:5], clock, line[5:])
        pieces = [body, detail, reply]
        sizes = _fit([p.cell_len for p in pieces], _FLOORS, room)
        for piece, size in zip(pieces, sizes, strict=True):
            if size == 0:
                piece.plain = ""
            else:
                piece.truncate(size, overflow="ellipsis")
    line.append_text(body)
    line.append_text(marks)
    line.append_text(detail)
    line.append_text(reply)
    if width is not None:
        line.truncate(width - 1, overflow="ellipsis")
    return line


#: the longest reply snippet on a history line
_REPLY = 40
#: how short the body, the outcome's detail and the reply snippet get before giving way
_FLOORS = (_SHORTEST, _SHORTEST, 12)


def _fit(wants: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Sizes for pieces that want ``wants`` cells in ``room`` cells, the first the most
    important: the last ones are cut first, down to their floors, then left out."""
    sizes = list(wants)
    excess = sum(sizes) - room
    for index in reversed(range(len(sizes))):
        if excess <= 0:
            break
        cut = min(excess, max(0, sizes[index] - floors[index]))
        sizes[index] -= cut
        excess -= cut
    for index in reversed(range(1, len(sizes))):
        if excess <= 0:
            break
        excess -= sizes[index]
        sizes[index] = 0
    if excess > 0:
        sizes[0] = max(1, sizes[0] - excess)
    # What a piece left out freed goes back to those still shown, the first first.
    for index, want in enumerate(wants):
        if excess >= 0:
            break
        if sizes[index]:
            grow = min(-excess, want - sizes[index])
            sizes[index] += grow
            excess += grow
    return sizes


def outcome(entry: Entry) -> Text:
    """What became of a message sent from the console: ``#3 ok 12 ms``, ``#4 no route:
    nothing is bound to 'x'``..."""
    line = Text(f"     #{entry.number} ", style="bold")
    line.append(entry.outcome or "?", style=_OUTCOME_STYLE.get(entry.outcome or "", ""))
    line.append(_elapsed(entry.elapsed), style="bright_black")
    if entry.detail:
        line.append(f": {terminal_text(entry.detail)}")
    return line


#: how many bytes of a binary body ``show`` previews, escaped
PREVIEW = 64


def body_view(envelope: Envelope, *, preview: bool = False) -> RenderableType:
    """The body in full: pretty JSON, or a note on a binary body (never raw bytes: with
    ``preview``, its first bytes escaped as a Python bytes literal)."""
    value = decoded(envelope)
    if isinstance(value, bytes):
        note_text = Text(_binary_note(value, envelope.content_type), style="magenta")
        if not preview or not value:
            return note_text
        more = "…" if len(value) > PREVIEW else ""
        return Group(note_text, Text(repr(value[:PREVIEW]) + more, style="bright_black"))
    return json_text(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _pretty(value: Any) -> str:
    return orjson.dumps(encode_header_value(value)).decode()


def _fields(pairs: Iterable[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bright_black", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in pairs:
        shown = value if isinstance(value, str) else _pretty(value)
        table.add_row(Text(terminal_text(name)), Text(terminal_text(shown)))
    return table


def _message(envelope: Envelope) -> list[RenderableType]:
    parts: list[RenderableType] = [
        _fields([("exchange", repr(envelope.exchange)), ("key", envelope.routing_key)]),
        Text("properties", style="bold"),
        _fields(envelope.properties().items()),
    ]
    if envelope.headers:
        parts += [Text("headers", style="bold"), _fields(sorted(envelope.headers.items()))]
    parts += [
        Text(f"body ({len(envelope.body)} bytes)", style="bold"),
        body_view(envelope, preview=True),
    ]
    return parts


def detail(entry: Entry, *, width: int | None = None) -> RenderableType:
    """``show N``: the message with every property and header, its body, its reply."""
    parts = [summary(entry, show_reply=False, width=width), *_message(entry.envelope)]
    if entry.dead_letter is not None:
        parts += _dead_letter(entry.dead_letter)
    if entry.reply is not None:
        parts += [Text(f"reply{_elapsed(entry.elapsed)}", style="bold green")]
        parts += _message(entry.reply)
    return Group(*parts)


#: the dead-letter header shown as a traceback rather than as a field
_TRACEBACK_HEADER = "x-vincent-error-traceback"


def _dead_letter(dead: Envelope) -> list[RenderableType]:
    """Where a dead letter sits and why: its ``x-vincent-*`` headers, the traceback last."""
    headers = {k: v for k, v in dead.headers.items() if k in DEAD_HEADERS}
    traceback = headers.pop(_TRACEBACK_HEADER, b"")
    if isinstance(traceback, bytes):
        traceback = traceback.decode("utf-8", "replace")
    parts: list[RenderableType] = [
        Text(f"dead letter in {terminal_text(dead.routing_key)}", style="bold red"),
        _fields(sorted(headers.items())),
    ]
    if str(traceback).strip():
        text = terminal_text(str(traceback).rstrip(), multiline=True)
        trace = Syntax(text, "pytb", theme="ansi_dark", word_wrap=True)
        parts.append(Padding(trace, (0, 0, 0, 2)))
    return parts


def dead_letters_table(entries: Sequence[Entry], *, width: int | None = None) -> Table:
    """``dead``: number, original key, reason, error, attempts, when it died (the time
    of day, as in history lines; the entry's time is when it died). With ``width`` (a
    terminal's) the error is cut so each row fits."""
    rows = []
    for entry in entries:
        headers = entry.dead_letter.headers if entry.dead_letter is not None else {}
        attempts = headers.get("x-vincent-attempts")
        rows.append(
            (
                str(entry.number),
                terminal_text(entry.key),
                terminal_text(_text(headers.get("x-vincent-reason"))),
                terminal_text(entry.detail),
                "" if attempts is None else terminal_text(attempts),
                entry.at.astimezone().strftime("%H:%M:%S"),
            )
        )
    names = ("#", "key", "reason", "error", "tries", "died")
    table = Table(*names, box=None, header_style="bold")
    for column in table.columns:
        column.no_wrap = True
    table.columns[0].justify = "right"
    table.columns[3].overflow = "ellipsis"
    if width is not None:
        # Every column but the error's as wide as its widest cell, two spaces between
        # columns and one at each edge (box=None): the error gets the rest.
        others = sum(
            max(len(name), *(len(row[i]) for row in rows)) + 2
            for i, name in enumerate(names)
            if i != 3
        )
        table.columns[3].max_width = max(len("error"), width - others - 3)
    for row in rows:
        # Text cells: what a message carries is never read as rich markup.
        table.add_row(*(Text(cell) for cell in row))
    return table


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def remote_error(error: RemoteError) -> RenderableType:
    """A remote handler's exception: type and message, then its traceback."""
    title = Text(
        terminal_text(f"remote error {error.type}: {error.message}", multiline=True),
        style="bold red",
    )
    details = remote_details(error, whole=True)
    return title if details is None else Group(title, details)


def remote_details(error: RemoteError, *, whole: bool = False) -> RenderableType | None:
    """What follows a remote error's type and message: the fields an invalid body got
    wrong (a typed handler's ``vincent.invalid``), then the remote traceback, indented;
    ``None`` when there is neither.

    Unless ``whole``, the traceback's last line is left out when it only says again the
    type and message that the outcome line above it already gave: an error is stated
    once.
    """
    parts: list[RenderableType] = [
        Text(f"  {terminal_text(field_error)}", style="red")
        for field_error in getattr(error, "errors", ())  # InvalidMessage: the fields
    ]
    text = error.traceback.rstrip()
    if not whole:
        for name in dict.fromkeys((error.type, error.type.rpartition(".")[2])):
            ending = f"{name}: {error.message}" if error.message else name
            if text.endswith("\n" + ending):
                text = text[: -len(ending)].rstrip()
                break
    if text:
        trace = Syntax(
            terminal_text(text, multiline=True), "pytb", theme="ansi_dark", word_wrap=True
        )
        parts.append(Padding(trace, (0, 0, 0, 2)))
    return Group(*parts) if parts else None


def failure(message: str) -> Text:
    """An error the console reports before the prompt returns."""
    return Text(f"✗ {terminal_text(message, multiline=True)}", style="red")


def note(message: str) -> Text:
    """A quiet remark (taps changed, file saved...)."""
    return Text(terminal_text(message, multiline=True), style="bright_black")


def help_overview() -> RenderableType:
    """``help``: every command with its one-line summary."""
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for spec in COMMANDS.values():
        table.add_row(spec.usage, spec.summary)
    hint = note(
        "help COMMAND for details · Tab completes · Ctrl-C cancels the line or the call · "
        "Ctrl-D leaves"
    )
    return Group(table, hint)


def help_command(spec: CommandSpec) -> RenderableType:
    """``help CMD``: usage, description and options."""
    parts: list[RenderableType] = [Text(spec.usage, style="bold cyan"), Text(spec.summary)]
    if spec.description:
        parts.append(Text(spec.description, style="bright_black"))
    if spec.options:
        options = Table.grid(padding=(0, 3))
        options.add_column(style="cyan", no_wrap=True)
        options.add_column()
        for option in spec.options:
            options.add_row(f"{', '.join(option.names)} {option.metavar}".strip(), option.help)
        parts.append(options)
    aliases = [alias for alias, name in ALIASES.items() if name == spec.name]
    if aliases:
        parts.append(note(f"also: {', '.join(aliases)}"))
    return Group(*parts)


def routes_table(routes: Sequence[Any]) -> Table:
    """The ``--app`` listeners (rows with key, queue, route_to, handler)."""
    table = Table("key", "queue", "route_to", "handler", box=None, header_style="bold")
    for column in table.columns:
        column.overflow = "fold"
    for route in routes:
        table.add_row(
            *(Text(terminal_text(cell)) for cell in (route.key, route.queue, route.route_to)),
            Text(terminal_text(route.handler)),
        )
    return table


def queues_table(infos: Sequence[QueueInfo]) -> Table:
    """Queues with their depth and consumer count."""
    table = Table("queue", "messages", "consumers", box=None, header_style="bold")
    for info in infos:
        style = "yellow" if info.consumers == 0 else ""
        name = Text(terminal_text(info.name))
        table.add_row(name, str(info.messages), str(info.consumers), style=style)
    return table
