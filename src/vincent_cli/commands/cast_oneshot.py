"""``vincent cast KEY [BODY] [ITEM...]`` without typer, asyncio or aiormq.

A cast in a shell loop (``for f in *; do vincent cast file.new "path=$f"; done``) is
a process per message, and most of such a process was imports: typer and the pydantic
it loads (~80 ms), asyncio and aiormq (~60 ms). The plain form of the command, with
only the global ``--broker``, ``--exchange``, ``--context`` and ``--output`` options,
runs here instead: settings and body exactly as the full command resolves them, one
confirmed publish over a blocking socket
(:func:`vincent_core.transport.blocking.publish_once`), the same output and exit codes.

Anything else (another option, ``-`` for stdin, ``amqps://``, several URLs, a failure
before the broker took the message) returns ``None``: the caller runs the full typer
command, which reports errors with all its detail. Nothing is published twice: the
full path runs only when the broker certainly does not have the message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["cast_oneshot"]

_GLOBAL = {"--broker": "broker", "-b": "broker", "--exchange": "exchange", "--context": "context"}


@dataclass
class _Plain:
    key: str
    arguments: list[str]
    broker: str | None = None
    exchange: str | None = None
    context: str | None = None
    output: str | None = None


def _parse(argv: Sequence[str]) -> _Plain | None:
    """The plain form, or ``None`` when typer should parse the command line."""
    options: dict[str, str] = {}
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        name, equals, value = argv[index].partition("=")
        if name not in _GLOBAL and name != "--output":
            return None
        if not equals:
            index += 1
            if index >= len(argv):
                return None
            value = argv[index]
        options[_GLOBAL.get(name, "output")] = value
        index += 1
    rest = list(argv[index:])
    if len(rest) < 2 or rest[0] != "cast" or any(arg.startswith("-") for arg in rest[1:]):
        return None
    return _Plain(rest[1], rest[2:], **options)


def cast_oneshot(argv: Sequence[str]) -> int | None:
    """Run ``vincent cast`` on the fast path: the exit code, or ``None`` to use typer."""
    plain = _parse(argv)
    if plain is None:
        return None
    try:
        return _cast(plain)
    except KeyboardInterrupt:
        return 130


def _cast(plain: _Plain) -> int | None:
    from vincent_cli.args import build_body
    from vincent_cli.output.emit import Output, OutputMode
    from vincent_cli.settings import Flags, resolve
    from vincent_core.errors import VincentError
    from vincent_core.transport.blocking import NotSent, parse_url, publish_once
    from vincent_core.wire.envelope import build_cast
    from vincent_core.wire.routing import check_key

    try:
        mode = OutputMode(plain.output.lower()) if plain.output is not None else None
        settings = resolve(Flags(plain.broker, plain.exchange, plain.context))
        if parse_url(settings.url) is None:
            return None
        check_key(plain.key)
        body = build_body(plain.arguments, binary=False)
        envelope = build_cast(settings.exchange, plain.key, {} if body is None else body)
    except Exception:
        return None  # bad input: the full command says exactly what is wrong
    output = Output.for_streams(mode)
    try:
        publish_once(settings.url, envelope)
    except NotSent:
        return None
    except VincentError as exc:
        from vincent_cli.exit_codes import describe, exit_code_for

        output.error(describe(exc))
        return exit_code_for(exc) or 1
    try:
        if output.pretty:
            from vincent_cli.output.terminal import terminal_text

            text = terminal_text(f"cast {plain.key}: confirmed (id {envelope.message_id})")
            output.console().print(text, markup=False, highlight=False)
        else:
            output.line({"key": plain.key, "message_id": envelope.message_id})
    except BrokenPipeError:
        # The reader went away: as the full command does, say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0
