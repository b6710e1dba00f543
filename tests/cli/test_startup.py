"""Start-up: `vincent --help` stays light; usage errors are one line and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.helpers import Cli

HEAVY = ("aio_pika", "aiormq", "pamqp", "prompt_toolkit")

PROBE = """
import sys
from vincent_cli.main import invoke
code = invoke(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
print("HEAVY", ",".join(heavy), "CODE", code, file=sys.stderr)
"""


def loaded_after(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY"))
    return line


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("--version",), ("cast", "--help"), ("listen", "--help"), ("dead", "--help")],
)
def test_help_imports_neither_aio_pika_nor_prompt_toolkit(argv: tuple[str, ...]) -> None:
    assert loaded_after(*argv) == "HEAVY  CODE 0"


def test_dry_run_does_not_load_the_amqp_stack() -> None:
    assert loaded_after("cast", "--dry-run", "k", "a=1") == "HEAVY  CODE 0"


def test_help_and_version(offline_cli: Cli) -> None:
    result = offline_cli.run("--help")
    assert result.code == 0
    for command in ("cast", "call", "listen", "record", "replay", "serve", "routes", "queues"):
        assert command in result.stdout.decode()
    version = offline_cli.run("--version")
    assert version.code == 0
    assert version.stdout.decode().startswith("vincent ")


def test_no_command_shows_the_help(offline_cli: Cli) -> None:
    result = offline_cli.run()
    assert result.code == 0
    assert b"Commands" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("cast",), "Missing argument 'KEY'"),
        (("cast", "k", "--nope"), "No such option: --nope"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("--output", "yaml", "config"), "'yaml' is not one of"),
        (("listen", "--count", "0", "x"), "--count"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    offline_cli: Cli, argv: tuple[str, ...], message: str
) -> None:
    result = offline_cli.run(*argv)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vincent: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
