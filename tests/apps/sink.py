"""A worker for fault-injection tests: records every handled message in a file.

Configured by environment: ``SINK_KEY``, ``SINK_FILE``, ``SINK_DELAY`` (seconds per
message), ``SINK_CONCURRENCY``, ``SINK_GRACE``, ``SINK_QUEUE_TYPE`` (``classic`` or
``quorum``); broker and exchange as usual. For the fault matrix also: ``SINK_QUEUE``
(the queue's name), ``SINK_DEAD`` (the dead-letter queue), ``SINK_RETRIES`` (with a
0.05 s delay), ``SINK_LOG`` (log level, ``WARNING`` by default).

A body ``{"n": N}`` is recorded as handled. One with ``"fail"`` makes the handler raise
instead: ``"error"`` a RuntimeError, ``"huge"`` a ValueError of 100 KB, ``"unprintable"``
an exception whose ``str()`` raises, ``"reject"`` a long ``msg.reject`` reason. One with
``"slow": S`` sleeps S seconds the first time it is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from vincent_core import Message, Vincent
from vincent_core.app.listener import QueueType
from vincent_core.config import DEFAULT_DEAD_LETTER_QUEUE

app = Vincent(dead_letter_queue=os.environ.get("SINK_DEAD") or DEFAULT_DEAD_LETTER_QUEUE)
KEY = os.environ.get("SINK_KEY", "sink")
SINK = os.environ.get("SINK_FILE", "sink.log")
DELAY = float(os.environ.get("SINK_DELAY", "0"))
QUEUE_TYPE: QueueType = "quorum" if os.environ.get("SINK_QUEUE_TYPE") == "quorum" else "classic"
CONCURRENCY = int(os.environ.get("SINK_CONCURRENCY", "8"))
QUEUE = os.environ.get("SINK_QUEUE") or None
RETRIES = int(os.environ.get("SINK_RETRIES", "3"))
OPTIONS: dict[str, Any] = {"queue": QUEUE, "retries": RETRIES}
if "SINK_RETRIES" in os.environ:
    OPTIONS["retry_delays"] = (0.05,)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception raises")


def record(msg: Message) -> int:
    fail = msg.get("fail")
    if fail == "huge":
        raise ValueError("x" * 100_000)
    if fail == "unprintable":
        raise Unprintable()
    if fail == "reject":
        msg.reject("r" * 100_000)
    if fail:
        raise RuntimeError(f"poison {msg['n']}")
    # One write() of one line with O_APPEND: lines from several processes never mix.
    fd = os.open(SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{msg['n']} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return int(msg["n"])


def _slow(msg: Message) -> float:
    return 0.0 if msg.redelivered else float(msg.get("slow") or 0)


if os.environ.get("SINK_SYNC"):

    @app.listen(KEY, concurrency=CONCURRENCY, queue_type=QUEUE_TYPE, **OPTIONS)
    def sink_sync(msg: Message) -> int:
        if DELAY or _slow(msg):
            time.sleep(DELAY + _slow(msg))
        return record(msg)

else:

    @app.listen(KEY, concurrency=CONCURRENCY, queue_type=QUEUE_TYPE, **OPTIONS)
    async def sink(msg: Message) -> int:
        if DELAY or _slow(msg):
            await asyncio.sleep(DELAY + _slow(msg))
        return record(msg)


@app.on_start
async def ready(client: object) -> None:
    print("READY", flush=True)


if __name__ == "__main__":
    level = os.environ.get("SINK_LOG", "WARNING")
    logging.basicConfig(level=level, format="%(process)d %(levelname)s %(name)s %(message)s")
    app.run(grace=float(os.environ.get("SINK_GRACE", "30")))
