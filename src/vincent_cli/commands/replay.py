"""``vincent replay FILE``: cast recorded messages again."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.exit_codes import NO_ROUTE, OK, CommandError
from vincent_cli.output.emit import Output
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_cli.records import Record
    from vincent_core.client import Client
    from vincent_core.wire.envelope import Envelope

__all__ = ["parse_key_map", "prepare", "replay"]

DEADLINE_HEADER = "x-vincent-deadline"


def parse_key_map(values: Sequence[str]) -> dict[str, str]:
    """``--key-map old=new`` options as a mapping."""
    mapping: dict[str, str] = {}
    for value in values:
        old, separator, new = value.partition("=")
        if not separator or not old or not new:
            raise CommandError(f"--key-map {value!r} is not OLD=NEW")
        mapping[old] = new
    return mapping


def prepare(
    record: Record,
    *,
    exchange: str | None,
    key_map: dict[str, str],
    now: dt.datetime,
) -> Envelope:
    """The envelope to publish for a record.

    The exchange in effect (``exchange``; ``None`` keeps the recorded one), keys mapped,
    headers, properties and body as recorded, except: ``reply_to`` is dropped (nobody
    waits for those replies any more) and an ``x-vincent-deadline`` moves forward by the
    time since the recording, so a message keeps the time to live it had.
    """
    envelope = record.envelope
    headers = dict(envelope.headers)
    deadline = headers.get(DEADLINE_HEADER)
    if isinstance(deadline, int) and not isinstance(deadline, bool) and record.ts is not None:
        shift_ms = int((now - record.ts).total_seconds() * 1000)
        headers[DEADLINE_HEADER] = deadline + max(0, shift_ms)
    return envelope.with_changes(
        exchange=envelope.exchange if exchange is None else exchange,
        routing_key=key_map.get(envelope.routing_key, envelope.routing_key),
        headers=headers,
        reply_to=None,
    )


def _read(file: str) -> list[Record]:
    from vincent_cli.records import read_records

    if file == "-":
        return read_records(sys.stdin.buffer, "stdin")
    try:
        with Path(file).open("rb") as handle:
            return read_records(handle, file)
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None


def replay(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Records (from listen/record); - for stdin.")
    ],
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", metavar="N", min=0.001, help="Messages per second.", show_default=False
        ),
    ] = None,
    timing: Annotated[
        bool, typer.Option("--timing", help="Keep the recorded spacing between messages.")
    ] = False,
    key_map: Annotated[
        list[str] | None,
        typer.Option(
            "--key-map",
            metavar="OLD=NEW",
            help="Send OLD's messages to NEW (repeatable).",
            show_default=False,
        ),
    ] = None,
    keep_exchange: Annotated[
        bool,
        typer.Option(
            "--keep-exchange", help="Publish to the recorded exchange, not the one in effect."
        ),
    ] = False,
) -> None:
    """Cast recorded messages again, in order, each confirmed by the broker.

    Keys, headers, properties and bodies are sent byte for byte as recorded (replies are
    not expected: reply_to is dropped; an x-vincent-deadline moves forward by the time
    since the recording). Without --rate or --timing, as fast as confirms allow. Exit 4
    if some message had no route (the others are still sent).

    \b
    Examples:
      vincent replay traffic.jsonl --rate 50
      vincent replay traffic.jsonl --timing --key-map file.encrypt=file.encrypt.v2
    """
    if rate is not None and timing:
        raise CommandError("give --rate or --timing, not both")
    runtime = get_runtime(ctx)
    mapping = parse_key_map(key_map or [])
    records = _read(file)
    if timing:
        untimed = next((n for n, r in enumerate(records, 1) if r.ts is None), None)
        if untimed is not None:
            raise CommandError(f"--timing needs 'ts' in every record; record {untimed} has none")
    settings = runtime.settings()
    exchange = None if keep_exchange else settings.exchange
    client = runtime.client(settings)
    code = run_async(_replay(client, records, exchange, mapping, rate, timing, runtime.output))
    raise typer.Exit(code)


async def _replay(
    client: Client,
    records: list[Record],
    exchange: str | None,
    key_map: dict[str, str],
    rate: float | None,
    timing: bool,
    output: Output,
) -> int:
    import asyncio

    from vincent_core.errors import NoRoute

    loop = asyncio.get_running_loop()
    unrouted: dict[str, int] = {}
    sent = 0
    async with client:
        start = loop.time()
        for index, record in enumerate(records):
            if timing and record.ts is not None and records[0].ts is not None:
                offset = (record.ts - records[0].ts).total_seconds()
            elif rate:
                offset = index / rate
            else:
                offset = 0.0
            # Pace against the start, so the time publishing takes does not add up.
            await asyncio.sleep(max(0.0, start + offset - loop.time()))
            envelope = prepare(
                record, exchange=exchange, key_map=key_map, now=dt.datetime.now(dt.UTC)
            )
            try:
                await client.publish(envelope, mandatory=True)
            except NoRoute:
                unrouted[envelope.routing_key] = unrouted.get(envelope.routing_key, 0) + 1
                continue
            sent += 1
    for key, number in unrouted.items():
        output.warning(f"{number} message(s) to {key!r} not sent: nothing is bound to it")
    output.info(f"replayed {sent} of {len(records)} message{'s' if len(records) != 1 else ''}")
    return NO_ROUTE if unrouted else OK
