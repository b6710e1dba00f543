"""The ``vincent`` console script: a plain ``vincent cast`` takes the one-shot fast path
(no typer, no asyncio); everything else goes to the typer app in :mod:`.main`."""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["run"]


def run() -> NoReturn:
    """``vincent ...``"""
    argv = sys.argv[1:]
    if "cast" in argv:
        from vincent_cli.commands.cast_oneshot import cast_oneshot

        code = cast_oneshot(argv)
        if code is not None:
            sys.exit(code)
    from vincent_cli.main import run as run_typer

    run_typer()
