"""``vincent cast`` on the async client: ``--count N`` (with ``--rate``), ``amqps://``,
several URLs, and the detailed report of a broker that refused the one-shot path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vincent_cli.output.emit import Output
from vincent_cli.output.terminal import terminal_text

if TYPE_CHECKING:
    from vincent_cli.sendline import SendLine
    from vincent_cli.settings import Settings
    from vincent_core.client import Client

__all__ = ["cast_many", "cast_with_client"]

#: casts in flight at once when no --rate paces them (each still waits for its confirm)
WINDOW = 64


async def cast_many(
    client: Client,
    key: str,
    body: Any,
    *,
    count: int,
    rate: float | None,
    ttl: float | None,
    headers: dict[str, Any],
    sent: Callable[[str], None],
) -> None:
    """Cast ``count`` copies (``rate`` per second, or as fast as confirms come back);
    ``sent(message_id)`` is called for each confirmed one. ``NoRoute`` stops at once."""
    import asyncio

    async def one() -> None:
        sent(await client.cast(key, body, ttl=ttl, headers=headers, require_route=True))

    if rate:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(count):
            # Pacing against the start time, so slow confirms do not lower the rate.
            await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
            await one()
        return
    for first in range(0, count, WINDOW):
        batch = [asyncio.ensure_future(one()) for _ in range(min(WINDOW, count - first))]
        results = await asyncio.gather(*batch, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def cast_with_client(
    settings: Settings, line: SendLine, body: Any, headers: dict[str, Any], output: Output
) -> list[str]:
    """Cast ``line.count`` messages; their ids (none when a progress bar showed them)."""
    from vincent_cli.runtime import run_async
    from vincent_core.client import Client

    client = Client(settings.url, exchange=settings.exchange)
    return run_async(_cast(client, line, body, headers, output))


async def _cast(
    client: Client, line: SendLine, body: Any, headers: dict[str, Any], output: Output
) -> list[str]:
    ids: list[str] = []
    async with client:
        if line.count > 1 and output.progress:
            from vincent_cli.output.views import progress_bar

            with progress_bar(output.console(stderr=True)) as bar:
                task = bar.add_task(terminal_text(f"cast {line.key}"), total=line.count)
                await cast_many(
                    client,
                    line.key,
                    body,
                    count=line.count,
                    rate=line.rate,
                    ttl=line.ttl,
                    headers=headers,
                    sent=lambda _id: bar.advance(task),
                )
            return ids
        await cast_many(
            client,
            line.key,
            body,
            count=line.count,
            rate=line.rate,
            ttl=line.ttl,
            headers=headers,
            sent=ids.append,
        )
    return ids
