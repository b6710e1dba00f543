"""The ``[speed]`` extra, for the rows that show what it adds.

The default rows are what ``pip install vincent-amqp`` gives: the bench sets
``VINCENT_LOOP=asyncio`` for every process it starts (the development environment has
uvloop, through the test extra). The extra's requirements (read from pyproject.toml, so
they are the ones users get) are installed once into ``.bench/speed`` with ``pip
--target``, and only the ``[speed]`` variants' processes see them (``PYTHONPATH``) and
run without ``VINCENT_LOOP``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from bench.node import REPO

__all__ = ["SPEED", "available", "ensure", "environ"]

#: the suffix of a variant that runs with the extra
SPEED = "[speed]"
SITE = REPO / ".bench" / "speed"


def _requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(project["optional-dependencies"]["speed"])


def available() -> bool:
    """Whether the extra is installed in :data:`SITE`."""
    return (SITE / "uvloop").is_dir()


def ensure() -> bool:
    """Install the extra into :data:`SITE` unless it is there; whether it is now."""
    if not available():
        SITE.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(SITE)]
        result = subprocess.run(
            [*command, *_requirements()], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            print(f"note: [speed] rows left out: {result.stderr.strip()[-300:]}", file=sys.stderr)
    return available()


def environ(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the extra importable."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), env.get("PYTHONPATH")]))
    env.pop("VINCENT_LOOP", None)
    return env
