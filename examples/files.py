"""The seed scenario: a file server and an encryption worker talking over vincent.

Run it with ``vincent serve examples.files:app`` and try::

    vincent call file.get file=hello.txt
    vincent call file.encrypt file=hello.txt key_id:=1234     # a call that calls file.get
    vincent cast file.encrypt file=hello.txt key_id:=1234
    vincent listen 'file.#' 'server.*'

Files are served from ``VINCENT_FILES_ROOT`` (default: examples/data); paths outside it
are refused. The "encryption" is a keyed XOR stream: a demonstration, not cryptography.

``file.encrypt`` is typed: its body is validated into ``EncryptRequest`` before it runs
(``vincent call file.encrypt file=x`` lists the missing ``key_id``), its reply is an
``Encrypted``; ``vincent asyncapi examples.files:app`` documents both. ``file.get`` is
untyped, the way every handler was before: both kinds live side by side.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from vincent_core import Client, Message, Service, Vincent

log = logging.getLogger("examples.files")
ROOT = Path(os.environ.get("VINCENT_FILES_ROOT", Path(__file__).parent / "data")).resolve()

app = Vincent()


class EncryptRequest(BaseModel):
    """What ``file.encrypt`` takes."""

    file: str = Field(description="a path under the served directory")
    key_id: int = Field(description="which key to encrypt with")


class Encrypted(BaseModel):
    """What ``file.encrypt`` answers, and the ``file.encrypted`` event."""

    file: str
    key_id: int
    size: int = Field(description="bytes encrypted")
    sha256: str = Field(description="hex digest of the encrypted bytes")


@dataclass
class ServerUp:
    """The ``server.up`` event (a dataclass works as a message type too)."""

    host: str
    pid: int


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
    """Return the file's bytes (untyped, a plain ``def``: it runs in a worker thread)."""
    return _safe_path(msg["file"]).read_bytes()


@app.listen("file.encrypt", queue="file.encrypt.queue")
async def encrypt(req: EncryptRequest, msg: Message) -> Encrypted:
    """Fetch the file from the file server (a nested call), encrypt it, announce it."""
    data: bytes = await msg.call("file.get", {"file": req.file})
    secret = bytes(b ^ k for b, k in zip(data, _keystream(req.key_id), strict=False))
    result = Encrypted(
        file=req.file,
        key_id=req.key_id,
        size=len(secret),
        sha256=hashlib.sha256(secret).hexdigest(),
    )
    await msg.cast("file.encrypted", result)
    return result


@app.listen("server.up", route_to="all")
async def server_up(event: ServerUp) -> None:
    """Every process hears about every server that starts (a broadcast)."""
    log.info("server up: %s (pid %s)", event.host, event.pid)


class Audit(Service):
    """Every worker process sees every ``file.encrypted`` event (``route_to="all"``)."""

    bind_to = "file.encrypted"
    route_to = "all"

    async def handle_cast(self, event: Encrypted) -> None:
        log.info("audit: %s encrypted (%s bytes)", event.file, event.size)


app.include(Audit)
