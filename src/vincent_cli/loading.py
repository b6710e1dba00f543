"""Find the user's app from ``MODULE:OBJ`` (``examples.files:app``).

A wrong target is a usage error (exit 2) with a one-line message. A module that raises
while it is imported is the user's own bug: they see their traceback, trimmed of
importlib's and vincent's frames, and the command exits 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from vincent_cli.exit_codes import USAGE, CommandError

if TYPE_CHECKING:
    from vincent_core.app import Vincent

__all__ = ["UserCodeError", "import_target", "load_app", "parse_target", "user_code_error"]

_OWN_DIR = str(Path(__file__).resolve().parent)
_IMPORTLIB = str(Path(importlib.__file__ or "importlib").resolve().parent)
#: where vincent's own frames and the event loop's machinery come from (uvloop's, with
#: the [speed] extra, are Cython frames named ``uvloop/loop.pyx``)
_OUR_FILES = (
    f"{_OWN_DIR}{os.sep}",
    f"{Path(_OWN_DIR).parent / 'vincent_core'}{os.sep}",
    f"{Path(asyncio.__file__ or '').resolve().parent}{os.sep}",
    str(Path(contextlib.__file__ or "").resolve()),
    "uvloop/",
)


class UserCodeError(CommandError):
    """The user's module raised on import; ``details`` is their traceback."""

    def __init__(self, message: str, details: str) -> None:
        super().__init__(message, code=USAGE)
        self.details = details


def parse_target(target: str) -> tuple[str, str]:
    """``"pkg.module:obj.attr"`` → ``("pkg.module", "obj.attr")``."""
    module, separator, attribute = target.partition(":")
    if not separator or not module or not attribute:
        raise CommandError(f"{target!r} is not MODULE:OBJ (for example examples.files:app)")
    names = module.split(".") + attribute.split(".")
    if module.endswith(".py") or not all(name.isidentifier() for name in names):
        raise CommandError(f"{target!r} is not MODULE:OBJ ({_suggest(module, attribute)})")
    return module, attribute


def _suggest(module: str, attribute: str) -> str:
    """``thumbs.py:app`` → ``did you mean thumbs:app?``; a path → its dotted module."""
    path = module.removesuffix(".py").strip("./").replace("/", ".")
    dotted = ".".join(part for part in path.split(".") if part)
    if dotted != module and all(n.isidentifier() for n in dotted.split(".") if n) and dotted:
        return f"did you mean {dotted}:{attribute}?"
    return "for example examples.files:app"


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    # Skip the frames before the user's code: ours and importlib's.
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        machinery = filename.startswith(("<frozen importlib", _IMPORTLIB, _OWN_DIR))
        if not machinery:
            break
        tb = tb.tb_next
    return tb


def _format_user_error(exc: BaseException) -> str:
    exc.__traceback__ = _user_frames(exc.__traceback__)
    return "".join(traceback.format_exception(exc)).rstrip()


def _is_the_target(exc: ModuleNotFoundError, module: str) -> bool:
    # "No module named x" about the target (or a parent package), not about something
    # the user's module imports.
    missing = exc.name or ""
    return module == missing or module.startswith(f"{missing}.")


def import_target(target: str, cwd: Path | None = None) -> Any:
    """Import ``MODULE`` (the current directory first on ``sys.path``) and return ``OBJ``."""
    module_name, attribute = parse_target(target)
    directory = str(cwd or Path.cwd())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if _is_the_target(exc, module_name):
            raise CommandError(
                f"cannot import {module_name!r} from {target!r}: no module named "
                f"{exc.name!r} (looked in {directory} and the Python path)"
            ) from None
        raise UserCodeError(
            f"importing {module_name!r} raised {type(exc).__name__}", _format_user_error(exc)
        ) from None
    except Exception as exc:
        raise UserCodeError(
            f"importing {module_name!r} raised {type(exc).__name__}", _format_user_error(exc)
        ) from None
    obj: Any = module
    for name in attribute.split("."):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise CommandError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return obj


def load_app(target: str, cwd: Path | None = None) -> Vincent:
    """The :class:`~vincent_core.Vincent` app named by ``MODULE:OBJ``."""
    from vincent_core.app import Vincent

    obj = import_target(target, cwd)
    if not isinstance(obj, Vincent):
        raise CommandError(f"{target!r} is a {type(obj).__name__}, not a vincent app (Vincent)")
    return obj


def user_code_error(exc: Exception, doing: str) -> Exception:
    """``exc``, raised while ``doing`` (``"starting examples.files:app"``), as the user's
    error when their code raised it (an ``on_start`` hook): their traceback, from their
    first frame on, and exit 2. Anything else is vincent's own and left as it is."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OUR_FILES):
        tb = tb.tb_next
    if tb is None:
        return exc
    details = "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
    return UserCodeError(f"{doing} raised {type(exc).__name__}", details)
