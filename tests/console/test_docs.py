"""docs/console.md keeps up with the console: every command, option and alias is there."""

from __future__ import annotations

import re
from pathlib import Path

from vincent_cli.console.grammar import ALIASES, COMMANDS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text()


def test_every_command_has_a_row_in_the_table() -> None:
    rows = re.findall(r"^\| `(\w+)[ `]", DOC, flags=re.MULTILINE)
    assert sorted(set(rows) & set(COMMANDS)) == sorted(COMMANDS)


def test_every_option_and_alias_is_mentioned() -> None:
    for spec in COMMANDS.values():
        for option in spec.options:
            for name in option.names:
                assert f"`{name}" in DOC or f" {name} " in DOC, (spec.name, name)
    for alias in ALIASES:
        assert f"`{alias}`" in DOC, alias


def test_the_recorded_sessions_are_there() -> None:
    assert "$ vincent dev examples.files:app\n" in DOC
    assert "\nvincent › call file.encrypt" in DOC
    assert "◌ reconnecting… (broker unreachable)" in DOC
    assert "\nvincent › dead\n" in DOC and "### At 72 columns" in DOC


def test_the_72_column_session_fits_in_72_columns() -> None:
    session = DOC.split("### At 72 columns")[1].split("```")[1]
    assert session.strip() and all(len(line) <= 72 for line in session.splitlines())
