#!/usr/bin/env python3
"""Install what the test suite drives besides RabbitMQ: shells and node for real checks.

``make test`` runs ``python tools/test_tools.py ensure`` once, before pytest, so no test
installs anything itself (and parallel tests never race for apt's lock). As root on
Debian the missing packages come from apt (one ``apt-get update``, one install); the
AsyncAPI parser comes from the npm registry into a cache directory outside the
repository. Elsewhere it says what is missing, and the tests that need it skip.

- bash, zsh, fish: the completion scripts are sourced in real shells;
- node, npm: the official AsyncAPI parser validates ``vincent asyncapi``'s documents.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: command -> the Debian package that provides it
COMMANDS = {"zsh": "zsh", "fish": "fish", "node": "nodejs", "npm": "npm"}


def missing_packages() -> list[str]:
    return [package for command, package in COMMANDS.items() if shutil.which(command) is None]


def ensure() -> int:
    missing = missing_packages()
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update"], env=env, stdout=sys.stderr, check=False)
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        subprocess.run(install, env=env, stdout=sys.stderr, check=False)
        missing = missing_packages()
    if missing:
        print(
            f"test tools not installed: {' '.join(missing)} (the tests that need them skip)",
            file=sys.stderr,
        )
    if shutil.which("node") and shutil.which("npm"):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from asyncapi_parser import ParserUnavailable, ensure_parser

        try:
            ensure_parser()
        except ParserUnavailable as exc:
            print(f"AsyncAPI parser not installed: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        raise SystemExit("usage: python tools/test_tools.py ensure")
    sys.exit(ensure())
