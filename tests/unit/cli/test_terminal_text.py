"""terminal_text: the one sanitiser for text from messages shown on a terminal."""

from __future__ import annotations

import io

import orjson
from rich.console import Console

from vincent_cli.output.terminal import json_text, terminal_text
from vincent_cli.output.views import table


def test_controls_are_escaped() -> None:
    assert terminal_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_text("\x9b31m\x7f\x00") == "\\x9b31m\\x7f\\x00"
    assert terminal_text("l\u202eevil") == "l\\u202eevil"
    assert terminal_text("one\nline\t") == "one\\x0aline\\x09"
    assert terminal_text("two\nlines\t", multiline=True) == "two\nlines\t"
    assert terminal_text("é ✓ 中") == "é ✓ 中"
    assert terminal_text(42) == "42"


def test_json_escapes_keep_json_valid() -> None:
    text = orjson.dumps({"t": "a\u009bb\x1b"}).decode()
    escaped = terminal_text(text, json=True)
    assert "\u009b" not in escaped and orjson.loads(escaped) == {"t": "a\u009bb\x1b"}
    rendered = json_text(orjson.dumps({"t": "\u009b"}, option=orjson.OPT_INDENT_2).decode())
    assert "\\u009b" in rendered.plain


def test_tables_print_markup_literally() -> None:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(
        table(("key", "n"), [("[red]x[/red]\x1b[2J", 1)], title="[b]t[/b]")
    )
    assert "[red]x[/red]\\x1b[2J" in out.getvalue() and "[b]t[/b]" in out.getvalue()
