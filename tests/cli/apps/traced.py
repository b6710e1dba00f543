"""The app the trace and services tests serve; keys are prefixed with ``CLI_PREFIX``.

- ``<prefix>.ok``: returns the body
- ``<prefix>.boom``: raises ``ValueError("bad input")``
- ``<prefix>.a`` calls ``<prefix>.b``, which calls ``<prefix>.c``: a chain of three
- ``<prefix>.event``: a cast two listeners take, each on its own queue
"""

from __future__ import annotations

import os
from typing import Any

from vincent_core import Message, Vincent

PREFIX = os.environ.get("CLI_PREFIX", "cli")

app = Vincent(dead_letter_queue=f"{PREFIX}.dead")


@app.listen(f"{PREFIX}.ok")
async def ok(msg: Message) -> Any:
    """Answer with the body."""
    return msg.body


@app.listen(f"{PREFIX}.boom", retries=0)
async def boom(msg: Message) -> None:
    """Always fail."""
    raise ValueError("bad input")


@app.listen(f"{PREFIX}.a")
async def first(msg: Message) -> Any:
    """The top of the chain."""
    return {"a": await msg.call(f"{PREFIX}.b", msg.body)}


@app.listen(f"{PREFIX}.b")
async def second(msg: Message) -> Any:
    return {"b": await msg.call(f"{PREFIX}.c", msg.body)}


@app.listen(f"{PREFIX}.c")
async def third(msg: Message) -> Any:
    return {"c": msg.body}


@app.listen(f"{PREFIX}.event", queue=f"{PREFIX}.event.audit")
async def audit(msg: Message) -> None:
    """Keep a note of the event."""


@app.listen(f"{PREFIX}.event", queue=f"{PREFIX}.event.mail")
async def mail(msg: Message) -> None:
    """Send a mail about the event."""


@app.on_start
async def ready(client: object) -> None:
    print("READY", os.getpid(), flush=True)
