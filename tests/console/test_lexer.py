"""Highlighting while typing."""

from __future__ import annotations

from prompt_toolkit.document import Document

from vincent_cli.console.lexer import ConsoleLexer, highlight, json_styles


def styled(text: str) -> list[tuple[str, str]]:
    """Runs of (style, text)."""
    runs: list[tuple[str, str]] = []
    for char, style in zip(text, highlight(text), strict=True):
        if runs and runs[-1][0] == style:
            runs[-1] = (style, runs[-1][1] + char)
        else:
            runs.append((style, char))
    return runs


def test_command_options_items_and_json() -> None:
    runs = styled('call k --timeout 3 {"a": 1} n:=true s=x')
    assert ("class:command", "call") in runs
    assert ("class:option", "--timeout") in runs
    assert ("class:json.key", '"a"') in runs
    assert ("class:json.number", "1") in runs
    assert ("class:item.name", "n") in runs
    assert ("class:item.operator", ":=") in runs
    assert ("class:json.keyword", "true") in runs
    assert ("class:item.value", "x") in runs


def test_unknown_commands_stand_out() -> None:
    assert styled("frob x")[0] == ("class:command.unknown", "frob")


def test_json_strings_are_keys_only_before_a_colon() -> None:
    styles = json_styles('{"k": "v"}')
    assert styles[1] == "class:json.key"
    assert styles[7] == "class:json.string"


def test_the_prompt_toolkit_lexer_splits_lines() -> None:
    document = Document('cast k {"a":\n  [1, 2]}')
    get_line = ConsoleLexer().lex_document(document)
    assert "".join(fragment[1] for fragment in get_line(1)) == "  [1, 2]}"
    assert ("class:json.number", "1") in get_line(1)
    assert get_line(5) == []
    json_line = ConsoleLexer(json_only=True).lex_document(Document('{"a": null}'))(0)
    assert ("class:json.keyword", "null") in json_line
