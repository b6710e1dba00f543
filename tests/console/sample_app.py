"""An app for ``vincent console --app`` tests: keys under ``$SAMPLE_PREFIX`` (default
``sample``)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from vincent_core import Message, Vincent

PREFIX = os.environ.get("SAMPLE_PREFIX", "sample")
app = Vincent()


@app.listen(f"{PREFIX}.echo")
async def echo(msg: Message) -> Any:
    return msg.body


@app.listen(f"{PREFIX}.fail")
def fail(msg: Message) -> None:
    raise LookupError(f"nothing called {msg.body.get('name')!r}")


@app.listen(f"{PREFIX}.events.*", queue=f"{PREFIX}-events", route_to="all")
async def events(msg: Message) -> None:
    await msg.cast(f"{PREFIX}.seen", {"event": msg.key})


@app.listen(f"{PREFIX}.slow")
async def slow(msg: Message) -> str:
    await asyncio.sleep(float(msg.body.get("seconds", 30)))
    return "done"


@app.listen(f"{PREFIX}.doomed", retries=0)
def doomed(msg: Message) -> None:
    raise ValueError(f"cannot take {msg.body.get('n')!r}")
