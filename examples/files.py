"""The seed scenario: a file server and an encryption worker talking over vincent.

Run it with ``vincent serve examples.files:app`` and try::

    vincent call file.get file=hello.txt
    vincent call file.encrypt file=hello.txt key_id:=1234     # a call that calls file.get
    vincent cast file.encrypt file=hello.txt key_id:=1234
    vincent listen 'file.#' 'server.*'

Files are served from ``VINCENT_FILES_ROOT`` (default: examples/data); paths outside it
are refused. The "encryption" is a keyed XOR stream: a demonstration, not cryptography.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import socket
from pathlib import Path
from typing import Any

from vincent_core import Client, Message, Service, Vincent

log = logging.getLogger("examples.files")
ROOT = Path(os.environ.get("VINCENT_FILES_ROOT", Path(__file__).parent / "data")).resolve()

app = Vincent()


def _safe_path(name: str) -> Path:
    path = (ROOT / name).resolve()
    if not path.is_relative_to(ROOT):
        raise PermissionError(f"{name!r} is outside the served directory")
    return path


def _keystream(key_id: int) -> itertools.cycle[int]:
    return itertools.cycle(hashlib.sha256(str(key_id).encode()).digest())


@app.on_start
async def announce(v: Client) -> None:
    """Tell the fleet this server is up (the seed's ``server.up``)."""
    await v.cast("server.up", {"host": socket.gethostname(), "pid": os.getpid()})


@app.listen("file.get")
def get(msg: Message) -> bytes:
    """Return the file's bytes (a plain ``def``: it runs in a worker thread)."""
    return _safe_path(msg["file"]).read_bytes()


@app.listen("file.encrypt", queue="file.encrypt.queue")
async def encrypt(msg: Message) -> dict[str, Any]:
    """Fetch the file from the file server (a nested call), encrypt it, announce it."""
    data: bytes = await msg.call("file.get", {"file": msg["file"]})
    secret = bytes(b ^ k for b, k in zip(data, _keystream(int(msg["key_id"])), strict=False))
    result = {
        "file": msg["file"],
        "key_id": msg["key_id"],
        "size": len(secret),
        "sha256": hashlib.sha256(secret).hexdigest(),
    }
    await msg.cast("file.encrypted", result)
    return result


@app.listen("server.up", route_to="all")
async def server_up(msg: Message) -> None:
    """Every process hears about every server that starts (a broadcast)."""
    log.info("server up: %s (pid %s)", msg["host"], msg["pid"])


class Audit(Service):
    """Every worker process sees every ``file.encrypted`` event (``route_to="all"``)."""

    bind_to = "file.encrypted"
    route_to = "all"

    async def handle_cast(self) -> None:
        log.info("audit: %s encrypted (%s bytes)", self.params["file"], self.params["size"])


app.include(Audit)
