"""The app the CLI tests serve. Keys are prefixed with ``CLI_PREFIX`` so tests stay apart.

- ``<prefix>.echo``: returns the body (call) — and appends it to ``CLI_SINK`` if set
- ``<prefix>.headers``: returns the message's headers (strings only)
- ``<prefix>.bytes``: returns 1 KiB of binary (every byte value, 4 times)
- ``<prefix>.boom``: raises ``ValueError`` with the body in its message
- ``<prefix>.slow``: sleeps ``seconds`` before answering
- ``<prefix>.fail``: a cast handler that always raises, no retries: straight to the
  dead-letter queue ``CLI_DEAD`` (default ``<prefix>.dead``)
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from vincent_core import Message, Vincent

PREFIX = os.environ.get("CLI_PREFIX", "cli")
SINK = os.environ.get("CLI_SINK", "")

app = Vincent(dead_letter_queue=os.environ.get("CLI_DEAD", f"{PREFIX}.dead"))


@app.listen(f"{PREFIX}.echo")
async def echo(msg: Message) -> Any:
    if SINK:
        # One write() with O_APPEND: lines from several processes never mix.
        fd = os.open(SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, json.dumps(msg.body).encode() + b"\n")
        finally:
            os.close(fd)
    return msg.body


@app.listen(f"{PREFIX}.headers")
async def headers(msg: Message) -> dict[str, str]:
    return {k: v for k, v in msg.headers.items() if isinstance(v, str)}


@app.listen(f"{PREFIX}.bytes")
def data(msg: Message) -> bytes:
    return bytes(range(256)) * 4


@app.listen(f"{PREFIX}.boom")
async def boom(msg: Message) -> None:
    raise ValueError(f"boom: {msg.body}")


@app.listen(f"{PREFIX}.slow")
async def slow(msg: Message) -> str:
    await asyncio.sleep(float(msg["seconds"]))
    return "late"


@app.listen(f"{PREFIX}.fail", retries=0, retry_delays=())
async def fail(msg: Message) -> None:
    raise RuntimeError("always fails")


@app.on_start
async def ready(client: object) -> None:
    print("READY", os.getpid(), flush=True)
