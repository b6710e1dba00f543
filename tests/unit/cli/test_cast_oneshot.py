"""Which command lines take the one-shot `vincent cast` path, and which go to typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vincent_cli.commands.cast_oneshot import _parse, cast_oneshot
from vincent_core.transport.blocking import Target, parse_url


def test_the_plain_form_with_global_options_is_taken() -> None:
    plain = _parse(["-b", "amqp://h/", "--exchange=x", "--output", "json", "cast", "k", "a=1"])
    assert plain is not None
    assert (plain.key, plain.arguments, plain.broker, plain.exchange, plain.output) == (
        "k",
        ["a=1"],
        "amqp://h/",
        "x",
        "json",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["cast"],
        ["call", "k"],
        ["cast", "k", "--ttl", "1"],
        ["cast", "k", "-"],
        ["cast", "--dry-run", "k"],
        ["--version", "cast", "k"],
        ["--broker"],
        ["listen", "cast"],
        ["cast", "k", "-H", "a:b"],
    ],
)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert _parse(argv) is None
    assert cast_oneshot(argv) is None


def test_bad_input_goes_to_typer_which_reports_it() -> None:
    assert cast_oneshot(["-b", "amqp://h/", "cast", "k.#"]) is None
    assert cast_oneshot(["-b", "amqp://h/", "cast", "k", "{bad"]) is None
    assert cast_oneshot(["-b", "amqps://h/", "cast", "k"]) is None


def test_plain_amqp_urls_only() -> None:
    assert parse_url("amqp://u:p%40ss@host:1234/v%2Fh") == Target("host", 1234, "u", "p@ss", "v/h")
    assert parse_url("amqp://host") == Target("host", 5672, "guest", "guest", "/")
    assert parse_url("amqp://host/") == Target("host", 5672, "guest", "guest", "/")
    for url in ("amqps://host/", "amqp://a/,amqp://b/", "amqp://host/?heartbeat=5", "memory://"):
        assert parse_url(url) is None


def test_the_one_shot_path_imports_neither_typer_nor_asyncio() -> None:
    probe = (
        "import sys\n"
        "from vincent_cli.commands.cast_oneshot import cast_oneshot\n"
        "cast_oneshot(['-b', 'amqp://guest:guest@127.0.0.1:1/', 'cast', 'k', 'a=1'])\n"
        "print(sorted({'typer', 'asyncio', 'aiormq', 'pamqp', 'rich'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
