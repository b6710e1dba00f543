"""The typed echo of scenario 8, written as a user writes it and run with ``vincent serve``.

The same echo as ``bench.apps:echo``, except that its body is validated into a five-field
pydantic model (the fields of ``bench.params.body``) and its reply serialised from it::

    VINCENT_BROKER_URL=... VINCENT_EXCHANGE=... BENCH_KEYS=k vincent serve bench.typed_app:app
"""

from __future__ import annotations

import os

from pydantic import BaseModel

from vincent_core import Client, Vincent

__all__ = ["Body", "app"]

KEYS = [key for key in os.environ.get("BENCH_KEYS", "bench.typed").split(",") if key]


class Body(BaseModel):
    """``bench.params.body(n)``."""

    file: str
    key_id: int
    user: str
    size: int
    n: int


def _ready(client: Client) -> None:
    print("ready", flush=True)


app = Vincent()
app.on_start(_ready)


@app.listen(KEYS[0])
async def typed_echo(body: Body) -> Body:
    """Reply with the request's body, validated and serialised."""
    return body
