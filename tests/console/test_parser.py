"""Splitting and parsing typed lines: pure functions."""

from __future__ import annotations

import pytest

from vincent_cli.console.grammar import COMMANDS
from vincent_cli.console.parser import (
    UsageError,
    needs_more,
    parse_line,
    parse_number,
    parse_range,
    split_words,
)


def texts(line: str) -> list[str]:
    return [word.text for word in split_words(line)]


def test_json_is_taken_verbatim_up_to_its_bracket() -> None:
    line = 'cast file.put {"name": "a b", "tags": ["x y"]} mode=fast'
    words = split_words(line)
    assert [w.text for w in words] == [
        "cast",
        "file.put",
        '{"name": "a b", "tags": ["x y"]}',
        "mode=fast",
    ]
    assert words[2].json and not words[3].json
    assert line[words[2].start : words[2].end] == words[2].text


def test_brackets_inside_json_strings_do_not_count() -> None:
    assert texts('call k {"a": "}{][", "b": "\\"}"}') == ["call", "k", '{"a": "}{][", "b": "\\"}"}']


def test_shell_quoting_rules() -> None:
    assert texts("""cast k 'a b=c' "x\\"y" z\\ w""") == ["cast", "k", "a b=c", 'x"y', "z w"]


def test_json_item_values_keep_their_spaces() -> None:
    assert texts('cast k tags:=["a", "b"] n:=3') == ["cast", "k", 'tags:=["a", "b"]', "n:=3"]
    assert texts("cast k 'tags:=[1, 2]'") == ["cast", "k", "tags:=[1, 2]"]


def test_an_open_bracket_or_quote_needs_more_lines() -> None:
    assert needs_more('cast k {"a": [1,')
    assert needs_more("cast k 'unfinished")
    assert needs_more('cast k tags:=["a",')
    assert not needs_more('cast k {"a": [1, 2]}')
    assert not needs_more("")
    assert not needs_more('cast k {"a": [1,\n 2]}')


def test_parse_line_splits_options_from_arguments() -> None:
    command = parse_line('call file.get --timeout 2.5 -H a:b --header=c:d {"x": 1} y=2')
    assert command is not None
    assert command.name == "call"
    assert [w.text for w in command.args] == ["file.get", '{"x": 1}', "y=2"]
    assert command.options == {"--timeout": ["2.5"], "--header": ["a:b", "c:d"]}
    assert command.number("--timeout") == 2.5


def test_blank_lines_and_aliases() -> None:
    assert parse_line("   ") is None
    quit_command = parse_line("quit")
    assert quit_command is not None and quit_command.name == "exit"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("frobnicate", "unknown command 'frobnicate'"),
        ("call k --nope 1", "unknown option '--nope'"),
        ("call k --timeout", "--timeout needs a value"),
        ("call k --timeout 1 --timeout 2", "given twice"),
        ("show", "usage: show N"),
        ("show 1 2", "usage: show N"),
        ("routes extra", "usage: routes"),
        ('cast k {"a": ', "unfinished input"),
    ],
)
def test_usage_errors_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_line(line)


def test_option_values_that_must_be_seconds() -> None:
    command = parse_line("call k --timeout soon")
    assert command is not None
    with pytest.raises(UsageError, match="--timeout takes a number of seconds"):
        command.number("--timeout")
    negative = parse_line("call k --timeout=-1")
    assert negative is not None
    with pytest.raises(UsageError, match="positive"):
        negative.number("--timeout")
    assert negative.number("--ttl") is None


def test_a_double_dash_ends_the_options() -> None:
    command = parse_line("cast k -- -x=1")
    assert command is not None
    assert [w.text for w in command.args] == ["k", "-x=1"]


def test_numbers_and_ranges() -> None:
    assert parse_number("12") == 12
    assert parse_number("#12") == 12
    with pytest.raises(UsageError):
        parse_number("0")
    assert parse_range("3", 10) == [3]
    assert parse_range("3-5", 10) == [3, 4, 5]
    assert parse_range("8-", 10) == [8, 9, 10]
    assert parse_range("-2", 10) == [1, 2]
    assert parse_range("1,3-4, 9", 10) == [1, 3, 4, 9]
    with pytest.raises(UsageError, match="backwards"):
        parse_range("5-3", 10)
    with pytest.raises(UsageError, match="names no message"):
        parse_range(",", 10)


def test_every_command_has_usage_starting_with_its_name() -> None:
    for name, spec in COMMANDS.items():
        assert spec.usage.split()[0] == name
        assert spec.summary
