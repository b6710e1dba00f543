"""The ``vincent`` console script: ``cast`` and ``call`` are parsed and run without typer
or asyncio (:mod:`vincent_cli.commands.send`); everything else goes to the typer app in
:mod:`.main`."""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["run"]


def run() -> NoReturn:
    """``vincent ...``"""
    argv = sys.argv[1:]
    if "cast" in argv or "call" in argv:
        from vincent_cli.commands.send import dispatch

        code = dispatch(argv)
        if code is not None:
            sys.exit(code)
    if "--version" in argv[:1]:
        from vincent_cli.version import version

        print(f"vincent {version()}")
        sys.exit(0)
    from vincent_cli.main import run as run_typer

    run_typer()
