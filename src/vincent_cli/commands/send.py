"""``vincent cast`` and ``vincent call``, run from a parsed :class:`SendLine`.

One path for every option: the command line is parsed by :mod:`vincent_cli.sendline`
(no typer), the message built as the library builds it, and sent over a blocking
socket (:mod:`vincent_core.transport.blocking`: no asyncio, no pamqp) whenever the
URL is a plain ``amqp://`` one. ``amqps://``, several URLs and ``--count N`` use the
async client instead, with the same output and exit codes; so does a broker that
refused before the message was taken (nothing is ever published twice), so that its
error is reported in full.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vincent_cli.output.emit import Output, OutputMode
from vincent_cli.sendline import SendLine, parse_send

if TYPE_CHECKING:
    from vincent_cli.settings import Settings
    from vincent_core.transport.blocking import QueueState
    from vincent_core.wire.envelope import Envelope

__all__ = ["dispatch", "run"]


def dispatch(argv: Sequence[str]) -> int | None:
    """Run ``argv`` if it is a ``cast`` or ``call`` command line: its exit code, or
    ``None`` for any other command (and for ``--help``)."""
    from vincent_cli.exit_codes import report

    try:
        line = parse_send(argv)
        if line is None:
            return None
        return run(line)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        return report(exc, Output.for_streams())


def run(line: SendLine) -> int:
    """Send what ``line`` describes; the exit code (failures raise)."""
    from vincent_cli.args import build_body, parse_headers
    from vincent_cli.settings import Flags, resolve
    from vincent_core.wire.routing import check_key

    output = Output.for_streams(OutputMode(line.output) if line.output else None)
    body = build_body(line.arguments, binary=line.binary)
    headers = parse_headers(line.headers)
    settings = resolve(Flags(line.broker, line.exchange, line.context))
    check_key(line.key)
    envelope = _envelope(line, settings.exchange, body, headers)
    if line.dry_run:
        from vincent_cli.records import to_record

        output.value(to_record(envelope))
        return 0
    if line.command == "cast":
        return _cast(line, settings, envelope, body, headers, output)
    return _call(line, settings, envelope, output)


def _envelope(line: SendLine, exchange: str, body: Any, headers: dict[str, Any]) -> Envelope:
    from vincent_core.transport.base import DIRECT_REPLY_TO
    from vincent_core.wire.envelope import build_call, build_cast

    # A command sends root messages: no trace header, as the client sends them.
    if line.command == "cast":
        return build_cast(exchange, line.key, body, ttl=line.ttl, headers=headers)
    return build_call(
        exchange,
        line.key,
        body,
        timeout=line.timeout,
        reply_to=DIRECT_REPLY_TO,
        ttl=line.ttl,
        headers=headers,
    )


def _oneshot(settings: Settings) -> bool:
    from vincent_core.transport.blocking import parse_url

    return parse_url(settings.url) is not None


# -- cast ---------------------------------------------------------------------------


def _cast(
    line: SendLine,
    settings: Settings,
    envelope: Envelope,
    body: Any,
    headers: dict[str, Any],
    output: Output,
) -> int:
    ids: list[str] = []
    if line.count == 1 and _oneshot(settings):
        from vincent_core.transport.blocking import NotSent, publish_once

        try:
            publish_once(settings.url, envelope)
            ids.append(envelope.message_id or "")
        except NotSent:
            pass  # the full path says what is wrong, in detail
    if not ids:
        from vincent_cli.commands.cast import cast_with_client

        ids = cast_with_client(settings, line, body, headers, output)
        if not ids:
            return 0  # a progress bar showed them
    if output.pretty:
        which = f"id {ids[0]}" if len(ids) == 1 else f"{len(ids)} messages"
        from vincent_cli.output.terminal import terminal_text

        text = terminal_text(f"cast {line.key}: confirmed ({which})")
        output.console().print(text, markup=False, highlight=False)
    else:
        for message_id in ids:
            output.line({"key": line.key, "message_id": message_id})
    return 0


# -- call ---------------------------------------------------------------------------


def _call(line: SendLine, settings: Settings, envelope: Envelope, output: Output) -> int:
    from vincent_core.wire.replies import read_reply

    def on_queue(state: QueueState) -> None:
        if state.consumers == 0 and not line.fail_fast:
            output.warning(f"queue {line.key!r} has no consumers: is a worker running?")

    _show_request(line, envelope, output)
    reply: Envelope | None = None
    started = time.perf_counter()
    if _oneshot(settings):
        from vincent_core.transport.blocking import NotSent, call_once

        try:
            reply = call_once(
                settings.url,
                envelope,
                timeout=line.timeout,
                on_queue=on_queue,
                fail_fast=line.fail_fast,
            )
        except NotSent:
            started = time.perf_counter()
    if reply is None:
        from vincent_cli.commands.call import call_with_client

        reply = call_with_client(settings, envelope, line, on_queue)
    latency = time.perf_counter() - started
    _show_reply(line, reply, latency, output)
    value = read_reply(reply, line.key)
    if "b" in line.print:
        output.value(value, reply.content_type)
    return 0


def _show_request(line: SendLine, envelope: Envelope, output: Output) -> None:
    if "H" in line.print:
        target = f"exchange {envelope.exchange!r}" if envelope.exchange else "default exchange"
        output.info(f"call {line.key} ({target})", label=">", style="cyan")
        output.info(_json(envelope.properties()), label="> properties", style="cyan")
        output.info(_json(_headers(envelope)), label="> headers", style="cyan")
    if "B" in line.print:
        output.info(_body_text(envelope), label=">", style="cyan")


def _show_reply(line: SendLine, reply: Envelope, latency: float, output: Output) -> None:
    if "m" in line.print:
        output.info(f"reply in {latency * 1000:.1f} ms", label="<", style="green")
    if "h" in line.print:
        output.info(_json(reply.properties()), label="< properties", style="green")
        output.info(_json(_headers(reply)), label="< headers", style="green")


def _headers(envelope: Envelope) -> Any:
    from vincent_cli.records import encode_header_value

    return encode_header_value(dict(envelope.headers or {}))


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _body_text(envelope: Envelope) -> str:
    from vincent_cli.output.emit import human_size

    try:
        return envelope.body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary data: {human_size(len(envelope.body))}, {envelope.content_type}>"
