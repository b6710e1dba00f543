"""The console on a real pseudo-terminal: text from messages is escaped, never raw and
never rich markup; the typed-line history is private (CONTRACT 6.3)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.console.test_dev import PROMPT, Terminal, terminal
from vincent_cli.private import make_private

__all__ = ["terminal"]

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned"
CSI8 = "\u009b31m"
MARKUP = "[red]x[/red]"


def test_history_and_show_escape_what_a_message_carries(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    record = {
        "ts": "2026-12-04T10:00:00+00:00",
        "exchange": "x",
        "key": f"evil{CLEAR}",
        "headers": {f"h{TITLE}": f"{MARKUP}{CSI8}"},
        "properties": {"content_type": "application/json", "correlation_id": f"c{CLEAR}"},
        "body": {"text": f"{MARKUP}{CSI8}{TITLE}"},
    }
    path = tmp_path / "evil.jsonl"
    path.write_text(json.dumps(record) + "\n")
    term = terminal("dev", "tests.console.sample_app:app")
    term.expect(PROMPT)
    term.send(f"load {path}\r")
    term.expect("loaded 1 message")
    term.send("history\r")
    term.expect(r"evil\\x1b\[2J")
    term.send("show 1\r")
    term.expect(r"h\\x1b\]0;pwned")
    term.expect(r"body \(")
    term.send("exit\r")
    assert term.finish() == 0
    for sequence in (CLEAR, "\x1b]", CSI8):
        assert sequence not in term.raw, sequence
    assert MARKUP + "\\x9b31m" in term.raw  # the header, literally
    assert "\\u009b31m" in term.raw  # the body, as JSON


def test_a_loose_history_file_is_tightened_at_start(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    directory = tmp_path / "state" / "vincent"
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    history = directory / "console_history"
    history.write_text("\n# 2026-12-01 10:00:00\n+call old.line\n")
    history.chmod(0o644)
    term = terminal("dev", "tests.console.sample_app:app")
    term.expect(PROMPT)
    assert history.stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700
    term.send("exit\r")
    assert term.finish() == 0
    assert "+call old.line" in history.read_text()


def test_a_symbolic_link_in_place_of_the_history_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    target.chmod(0o644)
    link = tmp_path / "state" / "console_history"
    link.parent.mkdir()
    os.symlink(target, link)
    with pytest.raises(OSError):
        make_private(link)
    assert target.stat().st_mode & 0o777 == 0o644


def test_the_toolbar_and_prompt_escape_taps_and_the_url() -> None:
    from vincent_cli.console.session import Session
    from vincent_cli.console.toolbar import prompt_message, toolbar_text

    session = Session(exchange="x", masked_url=f"amqp://h{CLEAR}/")
    session.taps.append(f"evil.{TITLE}")
    assert "evil.\\x1b]0;pwned" in toolbar_text(session)
    assert "\x1b" not in toolbar_text(session)
    assert all("\x1b" not in text for _style, text, *_ in prompt_message(session))
