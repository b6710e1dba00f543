"""Files only their owner may read: the console's history holds every line typed,
message bodies (and whatever secrets they carry) included."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["make_private"]


def make_private(path: Path) -> None:
    """Create ``path`` if needed, then make it 0600 and its directory 0700.

    Done on every start, so a file or directory left world-readable (an older vincent,
    a restored backup, a umask of 022) is tightened too. A symbolic link in place of the
    file is refused (``OSError``): it could point anywhere.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        directory.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
