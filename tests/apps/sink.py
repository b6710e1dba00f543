"""A worker for fault-injection tests: records every handled message in a file.

Configured by environment: ``SINK_KEY``, ``SINK_FILE``, ``SINK_DELAY`` (seconds per
message), ``SINK_CONCURRENCY``, ``SINK_GRACE``, ``SINK_QUEUE_TYPE`` (``classic`` or
``quorum``); broker and exchange as usual.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from vincent_core import Message, Vincent
from vincent_core.app.listener import QueueType

app = Vincent()
KEY = os.environ.get("SINK_KEY", "sink")
SINK = os.environ.get("SINK_FILE", "sink.log")
DELAY = float(os.environ.get("SINK_DELAY", "0"))
QUEUE_TYPE: QueueType = "quorum" if os.environ.get("SINK_QUEUE_TYPE") == "quorum" else "classic"
CONCURRENCY = int(os.environ.get("SINK_CONCURRENCY", "8"))


def record(msg: Message) -> int:
    # One write() of one line with O_APPEND: lines from several processes never mix.
    fd = os.open(SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{msg['n']} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return int(msg["n"])


if os.environ.get("SINK_SYNC"):

    @app.listen(KEY, concurrency=CONCURRENCY, queue_type=QUEUE_TYPE)
    def sink_sync(msg: Message) -> int:
        if DELAY:
            time.sleep(DELAY)
        return record(msg)

else:

    @app.listen(KEY, concurrency=CONCURRENCY, queue_type=QUEUE_TYPE)
    async def sink(msg: Message) -> int:
        if DELAY:
            await asyncio.sleep(DELAY)
        return record(msg)


@app.on_start
async def ready(client: object) -> None:
    print("READY", flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(levelname)s %(message)s")
    app.run(grace=float(os.environ.get("SINK_GRACE", "30")))
