"""The typed echo's message type: the fields of ``params.body``, as a pydantic model.

Its own module: a handler's annotations are resolved from module globals, and the other
worker roles should not import pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["Body"]


class Body(BaseModel):
    """``bench.params.body(n)``."""

    file: str
    key_id: int
    user: str
    size: int
    n: int
