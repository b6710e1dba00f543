#!/usr/bin/env python3
"""The official AsyncAPI parser (``@asyncapi/parser`` from npm), run with node, for tests.

Installed once into a cache directory outside the repository (``VINCENT_ASYNCAPI_PARSER_DIR``,
default ``~/.cache/vincent/asyncapi-parser``). When node or npm is missing and we are root
on Debian, Debian's ``nodejs`` and ``npm`` are installed first (like ``rabbitnode.py
ensure``). As a script::

    python tools/asyncapi_parser.py ensure          # install what is missing
    python tools/asyncapi_parser.py validate FILE   # print the diagnostics as JSON
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["PARSER_VERSION", "ParserUnavailable", "ensure_parser", "validate"]

PARSER_VERSION = "3.6.6"
#: diagnostics severities (Spectral's): 0 error, 1 warning, 2 information, 3 hint
ERROR, WARNING = 0, 1

SCRIPT = """import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
const { document, diagnostics } = await new Parser().parse(readFileSync(process.argv[2], 'utf8'));
console.log(JSON.stringify({
  valid: document !== undefined,
  diagnostics: diagnostics.map(d => ({
    severity: d.severity, code: String(d.code), message: d.message, path: d.path })),
}));
"""


class ParserUnavailable(RuntimeError):
    """node, npm or the parser package cannot be had on this machine."""


def parser_dir() -> Path:
    """Where the parser is installed."""
    override = os.environ.get("VINCENT_ASYNCAPI_PARSER_DIR")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "vincent" / "asyncapi-parser"


def _ensure_node() -> None:
    if shutil.which("node") and shutil.which("npm"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "nodejs", "npm"]):
            done = subprocess.run(command, env=env, stdout=sys.stderr, stderr=sys.stderr)
            if done.returncode != 0:
                raise ParserUnavailable(f"{' '.join(command)} failed ({done.returncode})")
    if not (shutil.which("node") and shutil.which("npm")):
        raise ParserUnavailable(
            "node and npm are not installed (as root on Debian: apt-get install nodejs npm)"
        )


def ensure_parser() -> Path:
    """The directory holding ``validate.mjs`` and ``node_modules/@asyncapi/parser``,
    installed when missing; raises :class:`ParserUnavailable` when that cannot be done."""
    _ensure_node()
    directory = parser_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Two test runs at once must not run npm into the same directory together.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install(directory)


def _install(directory: Path) -> Path:
    installed = directory / "node_modules" / "@asyncapi" / "parser" / "package.json"
    if not installed.exists() or json.loads(installed.read_text()).get("version") != (
        PARSER_VERSION
    ):
        (directory / "package.json").write_text('{"private": true, "type": "module"}\n')
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
             f"@asyncapi/parser@{PARSER_VERSION}"],
            cwd=directory, stdout=sys.stderr, stderr=sys.stderr, timeout=600,
        )  # fmt: skip
        if done.returncode != 0 or not installed.exists():
            raise ParserUnavailable(f"npm install @asyncapi/parser failed ({done.returncode})")
    (directory / "validate.mjs").write_text(SCRIPT)
    return directory


def validate(path: Path, directory: Path | None = None) -> dict[str, Any]:
    """``{"valid": bool, "diagnostics": [{"severity", "code", "message", "path"}]}``."""
    where = directory or ensure_parser()
    done = subprocess.run(
        ["node", str(where / "validate.mjs"), str(Path(path).resolve())],
        cwd=where, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the AsyncAPI parser failed: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["ensure"]:
        print(ensure_parser())
        return 0
    if argv[:1] == ["validate"] and len(argv) == 2:
        result = validate(Path(argv[1]))
        print(json.dumps(result, indent=2))
        serious = [d for d in result["diagnostics"] if d["severity"] in (ERROR, WARNING)]
        return 0 if result["valid"] and not serious else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
