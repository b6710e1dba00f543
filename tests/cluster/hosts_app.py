"""A worker for the several-hosts test: records which host and process handled what.

``fleet.flush`` is per host (``route_to="host"``), ``fleet.job`` is shared
(``route_to="one"``). Each handled message is a line ``KIND N HOSTNAME PID`` in
``HOSTS_SINK``; READY on stdout once consuming.
"""

from __future__ import annotations

import os
import socket

from vincent_core import Message, Vincent

app = Vincent()
SINK = os.environ.get("HOSTS_SINK", "hosts.log")


def record(kind: str, msg: Message) -> None:
    # One write() of one line with O_APPEND: lines from several processes never mix.
    fd = os.open(SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{kind} {msg['n']} {socket.gethostname()} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


@app.listen("fleet.flush", route_to="host")
async def flush(msg: Message) -> None:
    record("flush", msg)


@app.listen("fleet.job")
async def job(msg: Message) -> None:
    record("job", msg)


@app.on_start
async def ready(client: object) -> None:
    print("READY", flush=True)
