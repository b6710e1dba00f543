"""``vincent trace [PATTERN...]``: whole conversations, from RabbitMQ's firehose.

The firehose (``amq.rabbitmq.trace``) copies every publish on the vhost. A private,
exclusive queue bound to ``publish.<exchange>`` (requests and casts) and ``publish.``
(replies, published to the default exchange) receives those copies; the sans-io
:class:`~vincent_core.wire.conversation.Conversations` pairs them, and each finished
conversation is one line (terminal) or one JSON object (pipe).

Is tracing on? The management API says so (its vhost ``tracing`` flag) when one is
configured. Without it, a probe settles it (:class:`vincent_cli.firehose.FirehoseTap`): a
message published to the default exchange with a routing key no queue has (dropped by
the broker) must come back as a firehose copy within a few seconds, or tracing is off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.commands._tap import Count, IdleTimeout, Timeout
from vincent_cli.exit_codes import OK, TIMEOUT, CommandError
from vincent_cli.runtime import SignalStop, get_runtime, run_async

if TYPE_CHECKING:
    import asyncio

    from vincent_cli.output.emit import Output
    from vincent_cli.settings import Settings
    from vincent_core.client import Client
    from vincent_core.wire.conversation import Conversation, Conversations
    from vincent_core.wire.firehose import Published

__all__ = ["trace", "tracing_hint"]

_API_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 5.0


def tracing_hint(vhost: str) -> str:
    """How to turn the firehose on, in one line."""
    return (
        f"tracing is off on vhost {vhost!r}: turn it on with `rabbitmqctl trace_on -p {vhost}`"
        " or `vincent trace --enable --api URL` (the management API)"
    )


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """What to trace and when to stop."""

    patterns: tuple[str, ...]
    count: int | None
    timeout: float | None
    idle_timeout: float | None
    enable: bool
    disable_on_exit: bool
    max_pending: int


def trace(
    ctx: typer.Context,
    patterns: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATTERN]...",
            help="Topic patterns on the request's key (file.*, audit.#); default: all.",
            show_default=False,
        ),
    ] = None,
    count: Count = None,
    timeout: Timeout = None,
    idle_timeout: IdleTimeout = None,
    enable: Annotated[
        bool,
        typer.Option("--enable", help="Turn tracing on for the vhost (management API) first."),
    ] = False,
    disable_on_exit: Annotated[
        bool,
        typer.Option("--disable-on-exit", help="Turn tracing off again when done."),
    ] = False,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            metavar="URL",
            help="Management API (http://host:15672), to check or turn tracing on; "
            "env VINCENT_API_URL.",
            show_default=False,
        ),
    ] = None,
    max_pending: Annotated[
        int,
        typer.Option(
            "--max-pending",
            metavar="N",
            min=1,
            help="Calls waiting for their replies at most; past it the oldest is given up.",
        ),
    ] = 10_000,
) -> None:
    """Show whole conversations: each call with its reply, status and latency.

    Reads RabbitMQ's firehose (amq.rabbitmq.trace), which must be on for the vhost
    (`rabbitmqctl trace_on`, or --enable with the management API); with tracing off it
    exits 2 saying how to turn it on. Firehose traffic is heavy: the broker copies every
    message published on the vhost, so leave tracing on only while you look.

    On a terminal each finished call or cast is one line (time, key, status, latency,
    trace chain, sizes; errors in red); in a pipe one JSON object (docs/cli.md).
    Calls without a reply show as timeout once their expiration passed.

    \b
    Examples:
      vincent trace 'file.#'
      vincent trace --enable --disable-on-exit --api http://localhost:15672
      vincent trace --count 10 --timeout 30 | jq 'select(.status == "error")'
    """
    from vincent_core.wire.routing import check_key

    runtime = get_runtime(ctx)
    settings = runtime.settings(api=api)
    for pattern in patterns or ():
        check_key(pattern, pattern=True)
    if (enable or disable_on_exit) and not settings.api:
        raise CommandError(
            "--enable and --disable-on-exit need the management API: --api URL or "
            "VINCENT_API_URL (or run `rabbitmqctl trace_on`)"
        )
    if settings.url.startswith("memory:"):
        raise CommandError(
            "vincent trace reads RabbitMQ's firehose; memory:// lives in one process: "
            "use `vincent dev` and its console's tail"
        )
    options = TraceOptions(
        tuple(patterns or ()), count, timeout, idle_timeout, enable, disable_on_exit, max_pending
    )
    code = run_async(_trace(runtime.client(settings), settings, options, runtime.output))
    raise typer.Exit(code)


async def _api(function: object, *args: object) -> object:
    import asyncio

    return await asyncio.to_thread(function, *args)  # type: ignore[arg-type]


async def _check_tracing(settings: Settings, options: TraceOptions, output: Output) -> bool:
    """Turn tracing on (``--enable``) or ask the API whether it is; True when known on."""
    from vincent_cli.management import set_vhost_tracing, vhost_of, vhost_tracing

    vhost = vhost_of(settings.url)
    if settings.api is None:
        return False
    try:
        if options.enable:
            await _api(set_vhost_tracing, settings, True, _API_TIMEOUT)
            output.info(f"tracing turned on for vhost {vhost!r} (the firehose is heavy)")
            return True
        on = await _api(vhost_tracing, settings, _API_TIMEOUT)
    except (OSError, ValueError, KeyError) as exc:  # URLError is an OSError
        if options.enable:
            raise CommandError(f"cannot turn tracing on through {settings.api}: {exc}") from None
        output.warning(f"management API at {settings.api} not usable: {exc}")
        return False
    if not on:
        raise CommandError(tracing_hint(vhost))
    return True


async def _disable(settings: Settings, output: Output) -> None:
    from vincent_cli.management import set_vhost_tracing, vhost_of

    assert settings.api is not None
    try:
        await _api(set_vhost_tracing, settings, False, _API_TIMEOUT)
    except (OSError, ValueError, KeyError) as exc:
        output.warning(f"could not turn tracing off through {settings.api}: {exc}")
    else:
        output.info(f"tracing turned off for vhost {vhost_of(settings.url)!r}")


async def _trace(client: Client, settings: Settings, options: TraceOptions, output: Output) -> int:
    stop = SignalStop()
    known_on = await _check_tracing(settings, options, output)
    try:
        with stop.installed():
            async with client:
                return await _run(client, settings, options, output, stop, known_on)
    finally:
        if options.disable_on_exit:
            await _disable(settings, output)


async def _run(
    client: Client,
    settings: Settings,
    options: TraceOptions,
    output: Output,
    stop: SignalStop,
    known_on: bool,
) -> int:
    import asyncio
    import contextlib

    from vincent_cli.firehose import FirehoseTap
    from vincent_cli.management import vhost_of
    from vincent_core.errors import VincentError
    from vincent_core.wire.conversation import Conversations

    inbox: asyncio.Queue[Published] = asyncio.Queue()
    tap = FirehoseTap(client, inbox.put_nowait)
    try:
        if not await tap.start(probe=not known_on):
            raise CommandError(tracing_hint(vhost_of(settings.url)))
        where = ", ".join(options.patterns) or "every key"
        output.info(f"tracing exchange {client.exchange!r}: {where}")
        conversations = Conversations(
            exchange=client.exchange, patterns=options.patterns, max_pending=options.max_pending
        )
        finished = await _loop(inbox, conversations, options, stop, _writer(output))
    finally:
        # Bounded: with the broker gone, the exclusive queue goes with the connection.
        with contextlib.suppress(VincentError, TimeoutError):
            await asyncio.wait_for(tap.close(), _CLOSE_TIMEOUT)
    if conversations.evicted:
        output.warning(
            f"{conversations.evicted} call(s) given up: more than {options.max_pending} "
            "waited for replies at once (--max-pending)"
        )
    if stop.exit_code is not None:
        return stop.exit_code
    if options.count is not None and finished >= options.count:
        return OK
    return OK if finished else TIMEOUT


def _writer(output: Output) -> Callable[[Conversation], None]:
    if not output.pretty:
        from vincent_cli.output.conversations import conversation_document

        def write_document(conversation: Conversation) -> None:
            output.line(conversation_document(conversation))

        return write_document

    from vincent_cli.output.conversations import conversation_line

    console = output.console()

    def write_line(conversation: Conversation) -> None:
        console.print(conversation_line(conversation), soft_wrap=True)

    return write_line


async def _loop(
    inbox: asyncio.Queue[Published],
    conversations: Conversations,
    options: TraceOptions,
    stop: SignalStop,
    write: Callable[[Conversation], None],
) -> int:
    """Feed what arrives, write what finishes; returns how many finished."""
    import asyncio
    import contextlib

    start = time.monotonic()
    end = start + options.timeout if options.timeout is not None else None
    last = start
    finished = 0
    stopped = asyncio.ensure_future(stop.event.wait())
    try:
        while not stop.event.is_set() and (options.count is None or finished < options.count):
            now = time.monotonic()
            done = conversations.expire(now)
            waits = [t - now for t in (end, conversations.next_deadline()) if t is not None]
            if options.idle_timeout is not None:
                waits.append(last + options.idle_timeout - now)
            if not done:
                if end is not None and now >= end:
                    break
                if options.idle_timeout is not None and now >= last + options.idle_timeout:
                    break
                wait = max(0.0, min(waits)) if waits else None
                receive = asyncio.ensure_future(inbox.get())
                await asyncio.wait(
                    (receive, stopped), timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if not receive.done():
                    receive.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await receive
                if receive.done() and not receive.cancelled():
                    done = conversations.feed(receive.result())
            for conversation in done:
                if options.count is not None and finished >= options.count:
                    break
                write(conversation)
                finished += 1
                last = time.monotonic()
    finally:
        stopped.cancel()
    return finished
