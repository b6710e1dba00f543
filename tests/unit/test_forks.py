"""A forked child knows it is one without asking the kernel (vincent_core/forks.py)."""

from __future__ import annotations

import os

from vincent_core import forks


def test_a_forked_child_is_one_generation_further() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once, running nothing of pytest's
        os.write(write, str(forks.generation).encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    seen = os.read(read, 32)
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert int(seen) == forks.generation + 1
