"""``edit N``: the message as a record in the user's editor, or in a multiline buffer.

As git does with a commit message, closing the editor without a change sends nothing.
A mistake (``parse`` raising :class:`EditMistake`) reopens the multiline buffer at the
mistake, with the reason in its toolbar; with an external editor it is reported, and
nothing is sent.

::

    editor = Editor(screen, ask=None)                      # $VISUAL/$EDITOR only
    value = await editor.edit('{"key": "a"}', parse=json.loads)
    # EditAborted: abandoned, emptied or unchanged; EditFailed: the editor failed
"""

from __future__ import annotations

import asyncio
import os
import shlex
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

from vincent_cli.console.screen import Screen

__all__ = ["EditAborted", "EditFailed", "EditMistake", "Editor", "editor_command"]

T = TypeVar("T")

#: asks for text in a multiline buffer (the prompt): ``ask(text, cursor, error)``, the
#: edited text or ``None`` when abandoned
Ask = Callable[[str, int | None, str], Awaitable[str | None]]


class EditFailed(Exception):
    """The editor could not run or exited with an error, or the text has a mistake that
    an external editor cannot be reopened at."""


class EditAborted(Exception):
    """Nothing to send: the edit was abandoned, emptied, or left unchanged."""

    def __init__(self, message: str, *, unchanged: bool = False) -> None:
        super().__init__(message)
        self.unchanged = unchanged


class EditMistake(ValueError):
    """What ``parse`` raises for edited text it cannot take: why, and where (an offset
    into the text, or ``None`` when it is not about one place)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


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

    async def edit(self, text: str, parse: Callable[[str], T]) -> T:
        """Edit ``text`` and return ``parse(edited text)``.

        Raises :class:`EditAborted` when the user abandoned, emptied or did not change
        it, :class:`EditFailed` when the editor failed (or, for an external editor, when
        ``parse`` found a mistake).
        """
        command = editor_command()
        if command is None and self.ask is None:
            raise EditFailed("edit needs $VISUAL or $EDITOR when there is no terminal")
        current, cursor, error = text, None, ""
        while True:
            result: str | None
            if command is not None:
                result = await self._external(command, current)
            else:
                assert self.ask is not None
                result = await self.ask(current, cursor, error)
            if result is None or not result.strip():
                raise EditAborted("edit abandoned: nothing sent")
            if result.strip() == text.strip():
                raise EditAborted("nothing changed: nothing sent", unchanged=True)
            try:
                return parse(result)
            except EditMistake as exc:
                if command is not None:
                    raise EditFailed(f"{exc}; nothing sent") from None
                # The buffer opens again as it was sent, the cursor on the mistake.
                current, cursor, error = result, exc.position, str(exc)

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
