"""Which fork of the process this is: a counter that every forked child bumps.

``Client`` checks before each publish whether it was inherited across a ``fork()``
(gunicorn ``--preload``). ``os.getpid()`` is a system call, and as that check it was a
quarter of a cast's samples (issue 18); reading this counter is a global look-up.
"""

from __future__ import annotations

import os

__all__ = ["generation"]

#: 0 in the process that imported vincent, one more in each forked generation below it
generation = 0


def _forked() -> None:
    global generation
    generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)
