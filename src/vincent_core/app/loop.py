"""The event loop a worker runs on: uvloop when it is installed (``vincent-amqp[speed]``).

uvloop's loop and transports are written in C: with vincent's fast paths both on it, a
worker drains and answers calls faster than on the standard loop (see bench/README.md).
``VINCENT_LOOP=asyncio`` keeps the standard loop even when uvloop is installed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "run"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when installed and not switched off, else ``None``."""
    if os.environ.get("VINCENT_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop :func:`loop_factory` chooses."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)
