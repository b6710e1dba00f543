"""Entry points of ``vincent console`` and ``vincent dev``.

The command modules import these lazily (prompt_toolkit and rich load only here)::

    from vincent_cli.console.app import run_console, run_dev

    def run_console(*, url: str, exchange: str, app_ref: str | None = None,
                    history_path: Path | None = None) -> int
    def run_dev(*, app_ref: str, exchange: str) -> int

Both return the exit code: 0 after ``exit`` or Ctrl-D (without a terminal: 0 when every
command succeeded, else the code the CLI gives the first failure, 1 remote error, 2 bad
input, 3 timeout, 4 no route...); 2 for a bad ``MODULE:OBJ`` (or
a module that raises on import: its traceback is shown); 5 when the broker cannot be
reached or refuses the credentials (URL shown masked); 130 for Ctrl-C before the
prompt is up. With a terminal on stdin and stdout the console is interactive;
otherwise it reads commands line by line from stdin and ends at end of input.

:func:`console_main` is the same console with its input and output injected (tests
drive it with a prompt_toolkit pipe input).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from rich.console import Console
from rich.text import Text

from vincent_cli.console import render, repl
from vincent_cli.console.commands import Commands
from vincent_cli.console.editing import Editor
from vincent_cli.console.prompt import ask_multiline, default_history_path, make_prompt
from vincent_cli.console.schemas import app_fields
from vincent_cli.console.screen import Screen
from vincent_cli.console.session import Session
from vincent_cli.exit_codes import INTERRUPTED, OK, describe, exit_code_for
from vincent_core.app import Vincent
from vincent_core.client import Client
from vincent_core.errors import VincentError
from vincent_core.transport.base import ConnectionState

__all__ = ["console_main", "run_console", "run_dev"]

DEV_URL = "memory://"
#: how long handlers of ``--app`` still running at exit get to finish: leaving the console
#: should be quick, and an unfinished message goes back to its queue, it is not lost
APP_GRACE = 5.0


def run_console(
    *,
    url: str,
    exchange: str,
    app_ref: str | None = None,
    history_path: Path | None = None,
) -> int:
    """``vincent console``: the REPL on ``url``/``exchange``; ``app_ref`` (MODULE:OBJ)
    runs that app's workers in the same process. Returns the exit code."""
    return _run(url=url, exchange=exchange, app_ref=app_ref, history_path=history_path)


def run_dev(*, app_ref: str, exchange: str) -> int:
    """``vincent dev``: the app on ``memory://`` (no broker) with the console attached.
    Interactive, it taps all traffic from the start. Returns the exit code."""
    return _run(url=DEV_URL, exchange=exchange, app_ref=app_ref, history_path=None, dev=True)


def _run(
    *, url: str, exchange: str, app_ref: str | None, history_path: Path | None, dev: bool = False
) -> int:
    errors = Console(stderr=True, highlight=False)
    from vincent_cli.loading import UserCodeError, load_app

    try:
        app = load_app(app_ref) if app_ref else None
        is_terminal = sys.stdin.isatty() and sys.stdout.isatty()
        return asyncio.run(
            console_main(
                url=url,
                exchange=exchange,
                app=app,
                app_ref=app_ref,
                history_path=history_path or default_history_path(),
                interactive=is_terminal,
                dev=dev,
            )
        )
    except KeyboardInterrupt:
        return INTERRUPTED
    except UserCodeError as exc:
        errors.print(exc.details, markup=False, soft_wrap=True)
        errors.print(f"vincent: {exc.message}", markup=False, soft_wrap=True)
        return exc.code
    except Exception as exc:
        code = exit_code_for(exc)
        if code is None:
            raise
        errors.print(f"vincent: {describe(exc)}", markup=False, soft_wrap=True)
        return code


async def console_main(
    *,
    url: str,
    exchange: str,
    app: Vincent | None = None,
    app_ref: str | None = None,
    history_path: Path | None = None,
    interactive: bool = True,
    dev: bool = False,
    out: Console | None = None,
    input: Input | None = None,
    output: Output | None = None,
    lines: AsyncIterator[str] | None = None,
    started: Callable[[Commands], None] | None = None,
) -> int:
    """Run the console until ``exit``/Ctrl-D (interactive) or the end of ``lines``.

    ``out`` receives everything the console prints (default: stdout, which a terminal
    shows above the prompt); ``input``/``output`` are prompt_toolkit's (default: the
    terminal); ``lines`` replaces stdin in line mode; ``started`` is called with the
    console's :class:`Commands` once it is connected (to look at its session). Failing to
    connect raises (``ConnectionFailed``...): the caller maps it to an exit code.
    """
    screen = Screen(out or Console(highlight=False))
    with screen.capture_logs():
        async with contextlib.AsyncExitStack() as stack:
            client = Client(url, exchange=exchange)
            await client.connect()
            stack.push_async_callback(client.close)
            session = Session(
                exchange=client.exchange,
                masked_url=client.masked_url,
                state=client.state,
                app_keys=[route.key for route in app.routes()] if app is not None else [],
                app_fields=app_fields(app),
            )

            def on_state(state: ConnectionState) -> None:
                session.state = state
                screen.invalidate()

            client.transport.add_state_listener(on_state)

            async def ask(text: str, cursor: int | None, error: str) -> str | None:
                return await ask_multiline(
                    text, cursor=cursor, error=error, input=input, output=output
                )

            editor = Editor(screen, ask if interactive else None)
            commands = Commands(
                client,
                session,
                screen,
                app=app,
                editor=editor,
                closed_world=dev,
            )
            stack.push_async_callback(commands.close)
            if started is not None:
                started(commands)
            if interactive:
                screen.print(_banner(session, app, app_ref, dev))
                if dev:
                    # Before the app starts, so what its on_start hooks cast shows too.
                    await commands.run_line("tail #")
            if app is not None:
                try:
                    await stack.enter_async_context(
                        app.running(url=url, exchange=exchange, grace=APP_GRACE)
                    )
                except VincentError:
                    raise
                except Exception as exc:
                    from vincent_cli.loading import user_code_error

                    raise user_code_error(exc, f"starting {app_ref or 'the app'}") from None
                if interactive:
                    stack.callback(screen.print, render.note(f"stopping {app_ref or 'the app'}"))
            if interactive:
                prompt = make_prompt(session, history_path=history_path, input=input, output=output)
                await repl.interactive(commands, prompt, patch=out is None)
                code = OK
            else:
                code = await repl.line_mode(commands, lines or repl.stream_lines())
    return code


def _banner(session: Session, app: Vincent | None, app_ref: str | None, dev: bool) -> Text:
    where = f"{session.masked_url} · exchange {session.exchange!r}"
    if dev:
        where = "memory:// (in-process broker: nothing leaves this process)"
    lines = [f"vincent console on {where}"]
    if app is not None:
        lines.append(
            f"serving {app_ref or 'the app'} here: {len(app.listeners)} listener(s), "
            "`routes` lists them"
        )
    lines.append("help lists the commands · Tab completes · Ctrl-D leaves")
    return Text("\n".join(lines), style="bright_black")
