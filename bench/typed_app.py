"""The typed echo of scenario 8, written as a user writes it and run with ``vincent serve``.

The same echo as ``bench.apps:echo``, except that its body is validated into a five-field
pydantic model (the fields of ``bench.params.body``) and its reply serialised from it::

    VINCENT_BROKER_URL=... VINCENT_EXCHANGE=... BENCH_KEYS=k vincent serve bench.typed_app:app
"""

from __future__ import annotations

from pydantic import BaseModel

from bench.apps import KEYS, _ready
from vincent_core import Vincent

__all__ = ["Body", "app"]


class Body(BaseModel):
    """``bench.params.body(n)``."""

    file: str
    key_id: int
    user: str
    size: int
    n: int


app = Vincent()
app.on_start(_ready)


@app.listen(KEYS[0])
async def typed_echo(body: Body) -> Body:
    """Reply with the request's body, validated and serialised."""
    return body
