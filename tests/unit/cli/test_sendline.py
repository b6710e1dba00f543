"""The one parser of `cast` and `call` command lines, and its agreement with the help."""

from __future__ import annotations

import pytest
import typer

from vincent_cli.exit_codes import CommandError
from vincent_cli.main import app
from vincent_cli.sendline import GLOBAL_OPTIONS, SEND_OPTIONS, hoist_global_options, parse_send


def test_options_anywhere_and_every_form() -> None:
    line = parse_send(
        ["-b", "amqp://h/", "cast", "--ttl=2.5", "k", "a=1", "-Hx:y", "--header", "z:w",
         "--exchange", "", "--output", "JSON", "--", "--not-an-option"]
    )  # fmt: skip
    assert line is not None
    assert (line.broker, line.exchange, line.output, line.ttl) == ("amqp://h/", "", "json", 2.5)
    assert line.key == "k"
    assert line.arguments == ["a=1", "--not-an-option"]
    assert line.headers == ["x:y", "z:w"]


def test_negative_numbers_are_bodies() -> None:
    line = parse_send(["cast", "k", "-1"])
    assert line is not None and line.arguments == ["-1"]


@pytest.mark.parametrize(
    "argv",
    [["listen", "k"], ["--help"], ["cast", "--help"], ["call", "k", "-h"], ["--version"], []],
)
def test_other_commands_and_help_are_typers(argv: list[str]) -> None:
    assert parse_send(argv) is None


def test_verbose_and_print() -> None:
    verbose = parse_send(["call", "-v", "k"])
    assert verbose is not None and verbose.print == "HBhbm"
    only = parse_send(["call", "--print", "hb", "k"])
    assert only is not None and only.print == "hb"
    with pytest.raises(CommandError, match="--print takes letters"):
        parse_send(["call", "--print", "z", "k"])


def test_rate_needs_count() -> None:
    with pytest.raises(CommandError, match="give --count too"):
        parse_send(["cast", "k", "--rate", "5"])


def test_hoisting_global_options() -> None:
    assert hoist_global_options(["queues", "x", "--broker", "u", "--output=json"]) == [
        "--broker",
        "u",
        "--output=json",
        "queues",
        "x",
    ]
    assert hoist_global_options(["-b", "u", "listen", "--", "--broker"]) == [
        "-b",
        "u",
        "listen",
        "--",
        "--broker",
    ]


def test_typer_declares_the_options_the_parser_knows() -> None:
    """`--help` and the completions come from typer: they must list what parse_send reads."""
    group = typer.main.get_command(app)
    roots = {name for param in group.params for name in param.opts + param.secondary_opts}
    for spec in GLOBAL_OPTIONS:
        assert set(spec.names) <= roots
    for command in ("cast", "call"):
        declared = {
            name
            for param in group.commands[command].params  # type: ignore[attr-defined]
            if param.param_type_name == "option"
            for name in param.opts + param.secondary_opts
        }
        parsed = {name for spec in SEND_OPTIONS if command in spec.commands for name in spec.names}
        assert declared == parsed | {"-h", "--help"} or declared == parsed, command
