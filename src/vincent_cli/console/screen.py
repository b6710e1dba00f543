"""Where the console's output goes: a rich console, held back while an editor runs.

In the terminal the rich console writes to ``sys.stdout``, which ``patch_stdout``
redirects above the prompt; tests give it a ``StringIO``. Log records of vincent (a
worker of ``--app`` that fails, a lost connection) print here too, instead of
breaking the line being typed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from rich.console import Console, RenderableType
from rich.text import Text

from vincent_cli.output.terminal import terminal_text
from vincent_core.config import mask_text

__all__ = ["Screen"]

_LEVEL_STYLE = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "bold red"}


class Screen:
    """Prints renderables; ``hold()`` buffers them while something else owns the terminal."""

    def __init__(self, console: Console, invalidate: Callable[[], None] | None = None) -> None:
        self.console = console
        #: redraws the prompt and its toolbar (set by the interactive loop)
        self.invalidate: Callable[[], None] = invalidate or (lambda: None)
        self._held: list[RenderableType] | None = None

    @property
    def width(self) -> int | None:
        """The terminal's width in columns; ``None`` when the output is not a terminal."""
        return self.console.width if self.console.is_terminal else None

    def print(self, *renderables: RenderableType) -> None:
        """Print now, or after the hold ends."""
        if self._held is not None:
            self._held.extend(renderables)
            return
        console = self.console
        for renderable in renderables:
            if console.is_terminal:
                # rich wraps text at spaces; left to the terminal, it would break words.
                console.print(renderable)
                continue
            # In a pipe, without the padding rich gives table cells up to their width:
            # a line ends where its text does.
            with console.capture() as captured:
                console.print(renderable, soft_wrap=isinstance(renderable, Text))
            text = captured.get()
            console.file.write("\n".join(line.rstrip() for line in text.split("\n")))
        console.file.flush()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep output back for the duration (an external editor has the terminal)."""
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            self.print(*held)

    def clear(self) -> None:
        """Clear the terminal (nothing happens when it is not one)."""
        self.console.clear()

    @contextlib.contextmanager
    def capture_logs(self, name: str = "vincent", level: int = logging.WARNING) -> Iterator[None]:
        """Show the records of logger ``name`` on this screen (and only here) meanwhile."""
        logger = logging.getLogger(name)
        handler = _ScreenHandler(self)
        handler.setLevel(level)
        propagate = logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate


class _ScreenHandler(logging.Handler):
    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.screen = screen

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = Text(
                terminal_text(mask_text(f"[{record.name}] {record.getMessage()}"), multiline=True)
            )
            text.stylize(_LEVEL_STYLE.get(record.levelno, "bright_black"))
            if record.exc_info and record.exc_info[1] is not None:
                trace = mask_text(logging.Formatter().formatException(record.exc_info))
                text.append("\n" + terminal_text(trace, multiline=True))
            self.screen.print(text)
        except Exception:
            self.handleError(record)
