"""``vincent call`` on the async client: ``amqps://``, several URLs, and the detailed
report of a broker that refused the one-shot path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vincent_cli.sendline import SendLine
    from vincent_cli.settings import Settings
    from vincent_core.client import Client
    from vincent_core.transport.blocking import QueueState
    from vincent_core.wire.envelope import Envelope

__all__ = ["call_with_client"]


def call_with_client(
    settings: Settings,
    envelope: Envelope,
    line: SendLine,
    on_queue: Callable[[QueueState], None],
) -> Envelope:
    """Send the request ``envelope`` and return the reply (``CallTimeout``, ``NoRoute``
    and connection errors raise), checking the key's queue first as the one-shot path
    does."""
    from vincent_cli.runtime import run_async
    from vincent_core.client import Client

    client = Client(settings.url, exchange=settings.exchange)
    return run_async(_call(client, envelope, line, on_queue))


async def _call(
    client: Client,
    envelope: Envelope,
    line: SendLine,
    on_queue: Callable[[QueueState], None],
) -> Envelope:
    import asyncio

    from vincent_core.errors import CallTimeout
    from vincent_core.transport.blocking import QueueState
    from vincent_core.wire.deadlines import DEADLINE_HEADER, now_ms, remaining_seconds

    # The deadline was fixed when the request was built: connecting counts against it.
    wait = remaining_seconds(envelope.headers.get(DEADLINE_HEADER), now_ms()) or 0.0
    idle = False
    try:
        async with asyncio.timeout(wait), client:
            info = await client.queue_info(line.key)
            if info is not None:
                on_queue(QueueState(line.key, info.consumers))
                idle = info.consumers == 0
                if line.fail_fast and idle:
                    error = CallTimeout(line.key, line.timeout)
                    error.args = (
                        f"call to {line.key!r} not sent: queue {line.key!r} has no "
                        "consumers: is a worker running?",
                    )
                    raise error
            # Client's envelope-level call: its reply consumer, and a request that
            # leaves nothing registered once the client closes.
            return await client.request(envelope.with_changes(), timeout=wait)
    except TimeoutError as exc:
        if isinstance(exc, CallTimeout):
            raise
        hint = f"queue {line.key!r} has no consumers: is a worker running?" if idle else ""
        raise CallTimeout(
            line.key, line.timeout, correlation_id=envelope.correlation_id or "", hint=hint
        ) from None
