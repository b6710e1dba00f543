"""Writing results: pretty on a terminal, exact in a pipe.

- stdout a terminal (or ``--output pretty``): indented JSON, highlighted unless
  ``NO_COLOR`` is set; tables for listings.
- stdout a pipe (or ``--output json``): one compact JSON document per line, flushed.
- ``--output raw``: strings without quotes, bytes as they are, anything else compact JSON.
- Bytes are never dumped onto a terminal: a short note gives their size and type. In a
  pipe they pass through byte for byte.

rich is imported only when something is rendered for a terminal.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

import orjson

from vincent_cli.exit_codes import CommandError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Output", "OutputMode", "human_size"]


class OutputMode(enum.StrEnum):
    """``--output``: how results are written (default: by whether stdout is a terminal)."""

    json = "json"
    pretty = "pretty"
    raw = "raw"


def human_size(size: int) -> str:
    """``1536`` → ``1.5 KiB``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Output:
    """Where and how a command writes. Build it with :meth:`for_streams`."""

    mode: OutputMode | None
    stdout: IO[str]
    stderr: IO[str]
    stdout_tty: bool
    stderr_tty: bool
    no_color: bool
    width: int | None = None
    _consoles: dict[str, Console] = field(default_factory=dict, repr=False)

    @classmethod
    def for_streams(
        cls,
        mode: OutputMode | None = None,
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Output:
        """An Output for the given (default: the process's) streams and environment."""
        out = sys.stdout if stdout is None else stdout
        err = sys.stderr if stderr is None else stderr
        env = os.environ if environ is None else environ
        return cls(
            mode=mode,
            stdout=out,
            stderr=err,
            stdout_tty=_isatty(out),
            stderr_tty=_isatty(err),
            no_color="NO_COLOR" in env and env["NO_COLOR"] != "",
        )

    # -- what kind of output ---------------------------------------------------------

    @property
    def pretty(self) -> bool:
        """Human output on stdout: ``--output pretty``, or a terminal without ``--output``."""
        return self.mode is OutputMode.pretty or (self.mode is None and self.stdout_tty)

    @property
    def color(self) -> bool:
        """Colour on stdout: only on a terminal, never with ``NO_COLOR``."""
        return self.stdout_tty and not self.no_color

    @property
    def progress(self) -> bool:
        """Progress bars and live views belong on a terminal only (stderr)."""
        return self.stderr_tty

    def console(self, stderr: bool = False) -> Console:
        """A rich console on stdout or stderr (imports rich on first use)."""
        name = "stderr" if stderr else "stdout"
        if name not in self._consoles:
            from rich.console import Console

            stream, tty = (
                (self.stderr, self.stderr_tty) if stderr else (self.stdout, self.stdout_tty)
            )
            self._consoles[name] = Console(
                file=stream,
                force_terminal=tty,
                no_color=self.no_color or not tty,
                color_system="auto" if tty and not self.no_color else None,
                highlight=tty and not self.no_color,
                width=self.width,
                soft_wrap=not tty,
            )
        return self._consoles[name]

    # -- values ----------------------------------------------------------------------

    def _write_bytes(self, data: bytes) -> None:
        self.stdout.flush()
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            self.stdout.write(data.decode("utf-8", "surrogateescape"))
            self.stdout.flush()

    def stdout_binary(self) -> IO[bytes]:
        """stdout for bytes (its buffer)."""
        self.stdout.flush()
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            raise CommandError("stdout cannot take bytes here")
        return cast(IO[bytes], buffer)

    def write_line(self, data: bytes) -> None:
        """Bytes and a newline on stdout, flushed at once (a record line, for pipes)."""
        self._write_bytes(data + b"\n")

    def line(self, document: Any) -> None:
        """One compact JSON document and a newline, flushed at once (for pipes)."""
        self._write_bytes(orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS) + b"\n")

    def binary(self, data: bytes, content_type: str | None = None) -> None:
        """Bytes: through as they are on a pipe, a note about them on a terminal."""
        if self.stdout_tty:
            from vincent_cli.output.terminal import terminal_text

            kind = terminal_text(content_type or "application/octet-stream")
            note = f"<binary data: {human_size(len(data))}, {kind}; redirect stdout to save it>"
            self.console().print(note, style="dim", markup=False, highlight=False)
        else:
            self._write_bytes(data)

    def value(self, value: Any, content_type: str | None = None) -> None:
        """A reply or any JSON value, as the mode and the terminal say."""
        if isinstance(value, bytes | bytearray | memoryview):
            self.binary(bytes(value), content_type)
        elif self.mode is OutputMode.raw and isinstance(value, str):
            if self.stdout_tty:  # a pipe gets the exact string, a person a safe one
                from vincent_cli.output.terminal import terminal_text

                value = terminal_text(value, multiline=True)
            self.stdout.write(value + "\n")
            self.stdout.flush()
        elif self.pretty:
            self.pretty_json(value)
        else:
            self.line(value)

    def pretty_json(self, value: Any) -> None:
        """Indented JSON, highlighted on a colour terminal, control characters escaped."""
        from vincent_cli.output.terminal import json_text, terminal_text

        text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
        if self.color:
            self.console().print(json_text(text))
        else:
            self.stdout.write(terminal_text(text, json=True) + "\n")
            self.stdout.flush()

    def rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        """A listing: a table on a terminal, one JSON object per row in a pipe."""
        if self.pretty:
            from vincent_cli.output.views import table

            self.console().print(table(columns, rows, title=title))
        else:
            for row in rows:
                self.line(dict(zip(columns, row, strict=True)))

    # -- messages for people (stderr) ------------------------------------------------

    def info(self, text: str, *, label: str = "", style: str = "") -> None:
        """A line for a person watching, on stderr: ``label`` styled on a terminal, the
        text never interpreted as markup, any password in it masked and any control
        character escaped (it may quote a key, a queue name or a broker's error)."""
        from vincent_cli.output.terminal import terminal_text
        from vincent_core.config import mask_text

        text = terminal_text(mask_text(text), multiline=True)
        if self.stderr_tty:
            from rich.text import Text

            line = Text(f"{label} ", style=style) if label else Text()
            line.append(text)
            self.console(stderr=True).print(line, highlight=False)
        else:
            self.stderr.write(f"{label} {text}\n" if label else f"{text}\n")
            self.stderr.flush()

    def warning(self, text: str) -> None:
        """``vincent: warning: ...`` on stderr."""
        self.info(text, label="vincent: warning:", style="yellow")

    def error(self, text: str) -> None:
        """``vincent: error: ...`` on stderr (later lines, hints or tracebacks, follow)."""
        self.info(text, label="vincent: error:", style="bold red")
