"""``edit N``: the message as a record in the user's editor, or in a multiline buffer.

::

    editor = Editor(screen, ask=None)          # $VISUAL/$EDITOR only
    text = await editor.edit('{"key": "a"}')   # None when abandoned
"""

from __future__ import annotations

import asyncio
import os
import shlex
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from vincent_cli.console.screen import Screen

__all__ = ["EditFailed", "Editor", "editor_command"]

#: asks for text in a multiline buffer (the prompt), ``None`` when abandoned
Ask = Callable[[str], Awaitable[str | None]]


class EditFailed(Exception):
    """The editor could not run or exited with an error."""


def editor_command(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """``$VISUAL``, else ``$EDITOR``, as a command line, or ``None`` when neither is set."""
    env = os.environ if environ is None else environ
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            return shlex.split(value)
    return None


class Editor:
    """Edits text with the external editor if there is one, else with ``ask``."""

    def __init__(self, screen: Screen, ask: Ask | None) -> None:
        self.screen = screen
        self.ask = ask

    async def edit(self, text: str) -> str | None:
        """The edited text; ``None`` when the user abandoned or emptied it."""
        command = editor_command()
        result: str | None
        if command is not None:
            result = await self._external(command, text)
        elif self.ask is not None:
            result = await self.ask(text)
        else:
            raise EditFailed("edit needs $VISUAL or $EDITOR when there is no terminal")
        if result is None or not result.strip():
            return None
        return result

    async def _external(self, command: list[str], text: str) -> str:
        with tempfile.TemporaryDirectory(prefix="vincent-edit-") as folder:
            path = Path(folder) / "message.json"
            path.write_text(text, encoding="utf-8")
            # The editor owns the terminal: tap output waits until it is done.
            with self.screen.hold():
                try:
                    process = await asyncio.create_subprocess_exec(*command, str(path))
                except OSError as exc:
                    raise EditFailed(f"cannot run {command[0]!r}: {exc.strerror or exc}") from None
                try:
                    code = await process.wait()
                except asyncio.CancelledError:
                    process.kill()
                    await process.wait()
                    raise
            if code != 0:
                raise EditFailed(f"{command[0]} exited with status {code}; nothing sent")
            return path.read_text(encoding="utf-8")
