"""The bench's vincent workers as a user writes them, run with ``vincent serve``.

Nothing is tuned: ``Vincent()`` takes its broker and exchange from the environment
(``VINCENT_BROKER_URL``, ``VINCENT_EXCHANGE``) and every listener keeps the default
concurrency, as the documentation shows. The keys come from ``BENCH_KEYS`` (comma-separated),
since each run uses keys of its own.

    VINCENT_BROKER_URL=... VINCENT_EXCHANGE=... BENCH_KEYS=k vincent serve bench.apps:echo
"""

from __future__ import annotations

import os

from vincent_core import Client, Message, Vincent

__all__ = ["chain", "echo"]

KEYS = [key for key in os.environ.get("BENCH_KEYS", "bench.echo").split(",") if key]


def _ready(client: Client) -> None:
    # WorkerProcess waits for this line: the listeners consume once on_start runs.
    print("ready", flush=True)


echo = Vincent()
echo.on_start(_ready)


@echo.listen(KEYS[0])
async def echo_body(msg: Message) -> object:
    """Reply with the request's body."""
    return msg.body


chain = Vincent()
chain.on_start(_ready)


@chain.listen(KEYS[0])
async def first(msg: Message) -> object:
    """Call the second key with the body and reply with its answer."""
    return await msg.call(KEYS[-1], msg.body)


@chain.listen(KEYS[-1])
async def second(msg: Message) -> object:
    """Reply with the request's body."""
    return msg.body
