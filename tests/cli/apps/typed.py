"""A typed app for the CLI tests (keys prefixed with ``CLI_PREFIX``).

- ``<prefix>.encrypt``: takes ``{"file": str, "key_id": int}``, answers ``{"file", "size"}``
"""

from __future__ import annotations

import os

from pydantic import BaseModel

from vincent_core import Vincent

PREFIX = os.environ.get("CLI_PREFIX", "cli")

app = Vincent()


class EncryptRequest(BaseModel):
    file: str
    key_id: int


class Encrypted(BaseModel):
    file: str
    size: int


@app.listen(f"{PREFIX}.encrypt")
async def encrypt(req: EncryptRequest) -> Encrypted:
    """Encrypt a file (pretend)."""
    return Encrypted(file=req.file, size=req.key_id)


@app.on_start
async def ready(client: object) -> None:
    print("READY", os.getpid(), flush=True)
