"""What a user sees: ``vincent dev`` on a pseudo-terminal of 72, 80 and 120 columns,
its output run through a terminal emulator (pyte), and the rendered screen checked.

Here a line that the terminal wraps shows as two rows, as it would to the user; a
program that only looked at the bytes it wrote would not see that.
"""

from __future__ import annotations

import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, VINCENT

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

WIDTHS = (72, 80, 120)
ROWS = 40
PROMPT = "vincent › "
#: a history line as it is drawn: number, time (it goes on narrow terminals), direction
HISTORY_ROW = re.compile(r"^ *\d+ (\d\d:\d\d:\d\d )?[→←·✗] (call|cast) \S")


class _Screen(pyte.HistoryScreen):  # type: ignore[misc,name-defined]
    """A terminal that answers cursor position requests to the program in it."""

    def __init__(self, columns: int, rows: int, answer: Callable[[str], None]) -> None:
        super().__init__(columns, rows, history=5000)
        self._answer = answer

    def write_process_input(self, data: str) -> None:
        self._answer(data)


class Terminal:
    """``vincent ARGS`` on a pseudo-terminal, rendered by pyte."""

    def __init__(self, columns: int, state: Path, *args: str, **env: str) -> None:
        self.columns = columns
        # The pty's size is the truth: a COLUMNS or LINES left in the environment (by
        # another test, or the shell) would override it for rich.
        environ = {
            **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm",
            "VISUAL": "",
            "EDITOR": "",
            "XDG_STATE_HOME": str(state),
            **env,
        }
        with warnings.catch_warnings():
            # forkpty() in a process with threads: the child execs at once.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.child = pexpect.spawn(
                VINCENT,
                list(args),
                cwd=str(ROOT),
                env=environ,
                dimensions=(ROWS, columns),
                encoding="utf-8",
            )
        self.screen = _Screen(columns, ROWS, self.child.send)
        self.stream = pyte.Stream(self.screen)

    def _pump(self, timeout: float) -> bool:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.stream.feed(chunk)
        return True

    def rows(self) -> list[str]:
        """Every row so far: those scrolled off the top, then the screen, right-trimmed."""
        scrolled = [
            "".join(line[x].data for x in range(self.columns)).rstrip()
            for line in self.screen.history.top
        ]
        return scrolled + [row.rstrip() for row in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.rows())

    def wait(self, pattern: str, timeout: float = 30.0) -> str:
        """Wait until the rendered rows match ``pattern`` (a regular expression), as
        they are or joined as prose (a message rich wrapped at a space)."""
        return self.until(
            lambda text: re.search(pattern, text) or re.search(pattern, prose(text.split("\n"))),
            timeout,
            pattern,
        )

    def until(
        self, condition: Callable[[str], object], timeout: float = 30.0, what: str = ""
    ) -> str:
        """Wait until ``condition(rendered text)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what or condition} within {timeout}s on:\n{text}")
            if not self._pump(0.05):
                raise AssertionError(f"the program ended before {what or condition}:\n{text}")

    def settle(self, pattern: str, timeout: float = 30.0) -> str:
        """Wait for ``pattern``, then until nothing more is drawn for a moment."""
        self.wait(pattern, timeout)
        before = self.text()
        while self._pump(0.3) and self.text() != before:
            before = self.text()
        return before

    def run(self, command: str, pattern: str = "", timeout: float = 30.0) -> list[str]:
        """Type ``command`` and Enter; wait until the prompt is back and what the command
        printed matches ``pattern`` (as prose); return the rows it printed."""
        self.type(command + "\r")
        printed: list[str] = []

        def done(text: str) -> bool:
            shown = after(text.split("\n"), command)
            printed[:] = shown or []
            return shown is not None and bool(re.search(pattern, prose(shown)))

        self.until(done, timeout, f"{command!r} then {pattern!r}")
        return printed

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def finish(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self._pump(0.1):
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout}s:\n{self.text()}")
        self.child.close()
        return int(self.child.exitstatus)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """``terminal(columns, *args, **env)``."""
    started: list[Terminal] = []

    def spawn(columns: int, *args: str, **env: str) -> Terminal:
        started.append(Terminal(columns, tmp_path / "state", *args, **env))
        return started[-1]

    yield spawn
    for term in started:
        term.child.close(force=True)


def after(rows: list[str], command: str) -> list[str] | None:
    """The rows the last ``command`` printed, up to the next prompt (``None`` while the
    prompt is not back)."""
    starts = [i for i, row in enumerate(rows) if row == PROMPT + command]
    if not starts:
        return None
    rest = rows[starts[-1] + 1 :]
    end = next((i for i, row in enumerate(rest) if row.startswith(PROMPT.rstrip())), None)
    return None if end is None else rest[:end]


def prose(rows: list[str]) -> str:
    """Rows joined as words: a message rich wrapped at a space reads whole again."""
    return " ".join(" ".join(rows).split())


@pytest.mark.parametrize("columns", WIDTHS)
def test_prompt_history_and_errors_fit_the_terminal(
    terminal: Callable[..., Terminal], columns: int
) -> None:
    term = terminal(columns, "dev", "examples.files:app")
    term.wait(r"← cast server\.up")
    # Item 12: a short prompt; the broker is in the banner and the toolbar.
    text = term.settle(r"● connected")
    assert "vincent console on memory://" in text
    toolbar = next(row for row in term.rows() if "● connected" in row)
    assert re.search(r"● connected +│ memory:// · vincent │ taps: # │ seen 1 · sent 0", toolbar)
    assert len(toolbar) <= columns
    command = "call file.encrypt file=hello.txt key_id:=1234"
    term.type(command)
    rows = term.settle(re.escape(command)).split("\n")
    assert PROMPT + command in rows, "the command fits on the prompt's row"
    term.type("\x15")  # Ctrl-U: the line goes, to be run below
    term.run(command, r"#2 ok")
    term.run("call file.get file=hello.txt", r"Hello from the vincent file server")

    # Item 14: a remote error is stated once; "did you mean" for a key and a command.
    shown = term.run("call file.get file=../secret", r"raise PermissionError")
    assert prose(shown).count("'../secret' is outside the served directory") == 1, shown
    assert re.search(r"#\d+ error \d+ ms: PermissionError: '\.\./secret' is outside", prose(shown))
    said = prose(term.run("call file.gte file=hello.txt", r"did you mean"))
    assert "no route: no listener of the app is bound to 'file.gte'" in said
    assert "did you mean file.get?" in said
    said = prose(term.run("hsitory", r"unknown command 'hsitory'"))
    assert "did you mean history?" in said

    # Item 13: history lines with outcomes and replies are cut to fit, never wrapped.
    lines = term.run("history", r"file\.gte")
    assert len(lines) >= 10, lines
    for line in lines:
        assert HISTORY_ROW.match(line), (columns, line, lines)
        assert len(line) < columns
    outcome = next(line for line in lines if " → call file.encrypt " in line)
    assert re.search(r"  ok \d+ ms", outcome), outcome
    if columns >= 100:
        assert '{"file":"hello.txt","key_id":1234,' in outcome
    term.type("\x04")
    assert term.finish() == 0


@pytest.mark.parametrize("columns", WIDTHS)
def test_dead_letters_in_vincent_dev(terminal: Callable[..., Terminal], columns: int) -> None:
    # Item 16: `dead` lists, shows, replays and purges dead letters on memory://.
    term = terminal(columns, "dev", "tests.console.sample_app:app")
    term.settle(r"● connected")
    term.run("cast sample.doomed n:=7")
    term.until(lambda text: "dead-lettered to vincent.dead" in prose(text.split("\n")))
    table = term.run("dead", r"in vincent\.dead \(left")
    assert re.search(r"#\s+key\s+reason\s+error", table[0]), table
    assert re.search(r"\d+\s+sample\.doomed\s+error\s+ValueError: cannot", table[1]), table
    assert all(len(row) <= columns for row in table)
    number = table[1].split()[0]
    text = prose(term.run(f"show {number}", r"dead letter in vincent\.dead"))
    assert "x-vincent-reason error" in text and "ValueError: cannot take 7" in text
    term.run("dead replay", r"replayed 1 dead letter")
    # Sent again, it fails again, and is back in the dead-letter queue.
    term.until(lambda text: prose(text.split("\n")).count("dead-lettered to vincent.dead") == 2)
    term.run("dead purge", r"purged 1 dead letter\(s\) from vincent\.dead")
    term.run("dead", r"no dead letters in vincent\.dead")
    term.type("exit\r")
    assert term.finish() == 0


def _editor(tmp_path: Path, source: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(source)
    return f"{sys.executable} {script}"


def test_edit_sends_nothing_when_the_editor_changed_nothing(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    # Item 15: as git does: closing $EDITOR without a change aborts.
    mode = tmp_path / "mode"
    mode.write_text("keep")
    editor = _editor(
        tmp_path,
        "import sys\n"
        f"if open({str(mode)!r}).read() == 'break':\n"
        "    open(sys.argv[1], 'a').write('oops')\n",
    )
    term = terminal(80, "dev", "tests.console.sample_app:app", VISUAL=editor)
    term.settle(r"● connected")
    term.run("call sample.echo word=hello", r"#1 ok")
    term.run("edit 1", r"nothing changed: nothing sent \(replay 1 sends it as it was\)")
    # A mistake made in $EDITOR is reported (the editor cannot be reopened at it).
    mode.write_text("break")
    shown = prose(term.run("edit 1", r"not valid JSON"))
    assert re.search(r"✗ not valid JSON: Extra data at line \d+, column 1; nothing sent", shown)
    lines = term.run("history", r"→")
    assert [row for row in lines if " → " in row][-1].startswith("   1 ")
    term.type("exit\r")
    assert term.finish() == 0


UP, END, BACKSPACE, ESCAPE_ENTER = "\x1b[A", "\x05", "\x7f", "\x1b\r"


@pytest.mark.parametrize("columns", WIDTHS)
def test_a_json_mistake_in_the_edit_buffer_reopens_it_at_the_mistake(
    terminal: Callable[..., Terminal], columns: int
) -> None:
    # Item 15: the built-in buffer ($VISUAL and $EDITOR unset) keeps the edit.
    term = terminal(columns, "dev", "tests.console.sample_app:app")
    term.settle(r"● connected")
    term.run("call sample.echo word=hello", r"#1 ok")
    term.type("edit 1\r")
    term.settle(r"Esc Enter")
    # The cursor starts at the end; the body's field is three rows up. Remove its
    # closing quote and add an "s": an unterminated string.
    term.type(UP * 3 + END + BACKSPACE + "s" + ESCAPE_ENTER)
    text = term.settle(r"not valid JSON")
    assert re.search(r"not valid JSON: .* at line \d+, column \d+", prose(text.split("\n")))
    row = term.screen.display[term.screen.cursor.y].rstrip()
    assert row.endswith('"word": "hellos'), (row, text)
    # Still there as typed: close the string and send.
    term.type(END + '"' + ESCAPE_ENTER)
    rows = term.settle(r"#3 ok").split("\n")
    assert any(re.search(r"→ call sample\.echo .*hellos.*\(from #1\)", row) for row in rows)
    assert '"word": "hellos"' in "\n".join(rows)
    term.type("exit\r")
    assert term.finish() == 0
