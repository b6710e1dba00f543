"""``vincent dev``: the app and the console on memory://, no broker anywhere.

In-process through the real prompt (pipe input), as a subprocess without a terminal
(line mode), and as a subprocess on a pseudo-terminal (what a person at a terminal gets).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from examples.files import app as files_app

from tests.console.conftest import StartConsole
from tests.console.test_live import echo_app

ROOT = Path(__file__).resolve().parents[2]
VINCENT = str(Path(sys.executable).with_name("vincent"))


async def test_dev_taps_everything_and_calls_the_app_in_process(
    start_console: StartConsole, ns: Callable[[str], str], exchange: str
) -> None:
    app = echo_app("memory://", exchange, ns("echo"))
    console = await start_console(url="memory://", app=app, app_ref="my:app", dev=True)
    banner = await console.expect("tapping #")
    assert "memory:// (in-process broker: nothing leaves this process)" in banner
    await console.expect(r"memory:// · ", drawn=True)
    await console.run(f"call {ns('echo')} hello=world", r"#1 ok[\s\S]*\"world\"")
    await console.expect(rf"2 .* ← call {ns('echo')} .*\(#1\)")
    assert console.session.taps == ["#"]


async def test_dev_with_the_example_app(
    start_console: StartConsole, ns: Callable[[str], str], exchange: str
) -> None:
    url = f"memory://{ns('dev')}"  # a broker of its own: nothing left from other tests
    console = await start_console(url=url, app=files_app, app_ref="examples.files:app", dev=True)
    # The tap starts before the app, so the app's own on_start cast shows.
    await console.expect(r"1 .* ← cast server\.up \{\"host\":")
    text = await console.run("call file.get file=hello.txt", r"#2 ok")
    await console.expect(r"<36 bytes, application/octet-stream>\n.*Hello from the vincent")
    assert "\x00" not in text
    # A nested call: the tap shows file.encrypt, the file.get it makes, and its cast.
    mark = len(console.output())
    text = await console.run(
        "call file.encrypt file=hello.txt key_id:=1234", r'#4 ok[\s\S]*"sha256"'
    )
    assert '"size": 36' in text
    await console.expect(r"← call file\.get \{\"file\":\"hello\.txt\"\}", since=mark)
    await console.expect(
        r"← cast file\.encrypted \{\"file\":\"hello\.txt\",\"key_id\":1234", since=mark
    )
    # Remote errors are shown and the prompt goes on.
    text = await console.run("call file.get file=../../etc/passwd", r"raise PermissionError.*\n")
    assert "PermissionError: '../../etc/passwd' is outside the served directory" in text
    # The tap would take anything; dev knows every listener, so a typo is no route at once.
    started = time.monotonic()
    text = await console.run("call file.gte file=hello.txt", r"#\d+ no route")
    assert "no listener of the app is bound to 'file.gte'" in text
    assert time.monotonic() - started < 5, "no waiting for the call's timeout"
    await console.run("cast file.nowhere n:=1", r"no route: no listener .* 'file\.nowhere'")
    text = await console.run("routes", r"file\.encrypted")
    assert re.search(r"file\.encrypt +file\.encrypt\.queue +one +examples\.files\.encrypt", text)
    text = await console.run("queues", r"file\.encrypt\.queue +0 +1")
    assert re.search(r"file\.get +0 +1", text)
    assert await console.close() == 0
    assert "stopping examples.files:app" in console.output()


def vincent_dev(target: str, stdin: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VINCENT, "dev", target],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        check=False,
    )


async def test_vincent_dev_without_a_terminal_reads_commands_from_stdin() -> None:
    done = await asyncio.to_thread(
        vincent_dev,
        "tests.console.sample_app:app",
        'routes\ncall devtest.echo {"n": [1,\n 2]}\ncall devtest.fail name=q\nexit\n',
        SAMPLE_PREFIX="devtest",
    )
    assert done.returncode == 1, done.stderr
    assert "devtest.echo" in done.stdout and "devtest.slow" in done.stdout
    assert '"n": [' in done.stdout
    # Tables in a pipe end their lines where the text does (no cell padding).
    assert [line for line in done.stdout.splitlines() if line != line.rstrip()] == []
    assert re.search(r"#2 error \d+ ms: LookupError: nothing called 'q'", done.stdout)


async def test_vincent_dev_with_the_example_app_in_line_mode() -> None:
    done = await asyncio.to_thread(
        vincent_dev,
        "examples.files:app",
        "call file.encrypt file=hello.txt key_id:=1234\n"
        "call file.get file=../x\n"
        "cast nobody.here\n"
        "history\n",
    )
    out = done.stdout
    # Two failures (a remote error, then no route): the first one's code.
    assert done.returncode == 1, done.stderr
    assert re.search(r"#1 ok \d+ ms", out) and '"size": 36' in out
    assert "error" in out and "PermissionError: '../x' is outside the served directory" in out
    # Without a terminal there is no tap, so the broker itself says no route.
    assert "#3 no route: nothing is bound to 'nobody.here'" in out
    assert re.search(r"1 [\d:]+ → call file\.encrypt .* ok", out)
    assert "\x1b[" not in out
    assert done.stderr.startswith("vincent: 2 failure(s) in 4 command(s); the first: ")


BAD_START = """\
from vincent_core import Vincent
app = Vincent()

@app.on_start
async def boom(v):
    raise RuntimeError("no config")

@app.listen("x.y")
async def handle(msg):
    pass
"""


async def test_an_app_whose_start_hook_raises_shows_the_users_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad_start.py").write_text(BAD_START)
    done = await asyncio.to_thread(
        subprocess.run,
        [VINCENT, "dev", "bad_start:app"],
        input="help\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert 'bad_start.py", line 6, in boom' in done.stderr
    assert "RuntimeError: no config" in done.stderr
    assert "vincent: starting bad_start:app raised RuntimeError" in done.stderr
    assert "vincent_core" not in done.stderr and "bug in vincent" not in done.stderr


# -- on a pseudo-terminal -------------------------------------------------------------

PROMPT = "vincent ›"


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-2]|\x1b[=>]|[\r\x08]")
#: a cursor position request: the terminal answers where the cursor is
CPR_REQUEST = "\x1b[6n"


class Terminal:
    """A ``vincent`` on a 40x120 pseudo-terminal, driven with pexpect.

    It answers cursor position requests, as a terminal does (prompt_toolkit needs that
    to draw the bottom toolbar), and matches patterns against the text with the escape
    sequences taken out.
    """

    def __init__(self, pexpect: Any, state: Path, *args: str) -> None:
        self.pexpect = pexpect
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm",
            "VISUAL": "",
            "EDITOR": "",
            "XDG_STATE_HOME": str(state),  # where the typed-line history goes
        }
        with warnings.catch_warnings():
            # Python 3.12+ warns that forkpty() in a process with threads may deadlock;
            # the child execs at once.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.child = pexpect.spawn(
                VINCENT, list(args), cwd=str(ROOT), env=env, dimensions=(40, 120), encoding="utf-8"
            )
        self.raw = ""
        #: where the next ``expect`` starts looking, in the text without escapes
        self.mark = 0

    def text(self) -> str:
        return ANSI.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        """Read what is there (``False`` at the end of the output)."""
        try:
            chunk = self.child.read_nonblocking(65536, timeout=timeout)
        except self.pexpect.TIMEOUT:
            return True
        except self.pexpect.EOF:
            return False
        for _ in range(chunk.count(CPR_REQUEST)):
            self.child.send("\x1b[20;1R")
        self.raw += chunk.replace(CPR_REQUEST, "")
        return True

    def expect(self, pattern: str, timeout: float = 30.0) -> str:
        """Wait for ``pattern`` (a regular expression) in the output after the last match;
        returns the text up to the end of the match."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            found = re.compile(pattern).search(text, self.mark)
            if found:
                self.mark = found.end()
                return text[: found.end()]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} within {timeout}s in:\n{text[self.mark :]}")
            if not self._read(0.1):
                raise AssertionError(f"the output ended before {pattern!r}:\n{text[self.mark :]}")

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the end of the output, then the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(0.1):
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout}s:\n{self.text()[-2000:]}")
        self.child.close()
        return int(self.child.exitstatus)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """``terminal(*args)``: ``vincent ARGS`` on a pseudo-terminal, its state directory
    (``XDG_STATE_HOME``) in ``tmp_path/state``."""
    pexpect = pytest.importorskip("pexpect")
    started: list[Terminal] = []

    def spawn(*args: str) -> Terminal:
        started.append(Terminal(pexpect, tmp_path / "state", *args))
        return started[-1]

    yield spawn
    for term in started:
        term.child.close(force=True)


def test_vincent_dev_in_a_terminal(terminal: Callable[..., Terminal], tmp_path: Path) -> None:
    term = terminal("dev", "examples.files:app")
    term.expect("tapping #")
    term.expect(r"← cast server\.up")
    term.expect(PROMPT)
    term.expect(r"● connected +│ memory:// · vincent │ taps: # │ seen \d+ · sent 0")
    term.send("call file.encrypt file=hello.txt key_id:=1234\r")
    term.expect(r"← cast file\.encrypted")
    term.expect(r"#\d+ ok")
    term.expect('"sha256"')
    # Completion as it is typed: commands, then the routing keys the app declares.
    term.send("sho")
    term.expect("show message N in full")
    term.send("\x03")  # Ctrl-C drops the line
    term.expect(PROMPT)
    term.send("call file.g")
    term.expect(r"file\.get +key")
    term.send("\t")
    term.send(" file=hello.txt\r")
    term.expect(r"#\d+ ok")
    term.expect("Hello from the vincent file server")
    term.send("\x04")  # Ctrl-D
    term.expect("stopping examples.files:app")
    assert term.finish() == 0
    # Typed lines are kept for the next session, in a file only the user can read.
    history = tmp_path / "state" / "vincent" / "console_history"
    assert history.stat().st_mode & 0o777 == 0o600
    assert "+call file.get file=hello.txt" in history.read_text()


def test_ctrl_c_in_a_terminal_cancels_a_long_call(terminal: Callable[..., Terminal]) -> None:
    term = terminal("dev", "tests.console.sample_app:app")
    term.expect(PROMPT)
    term.send("call sample.slow seconds:=3 --timeout 60\r")
    term.expect(r"waiting for the reply to #1")
    # The terminal, in cooked mode while the command runs, turns Ctrl-C into SIGINT.
    term.send("\x03")
    term.expect("cancelled")
    term.expect(PROMPT)
    term.send("call sample.echo n:=1\r")
    term.expect(r"#\d+ ok")
    term.send("exit\r")
    assert term.finish() == 0


async def test_a_piped_vincent_dev_is_a_smoke_test() -> None:
    fine = await asyncio.to_thread(
        vincent_dev,
        "tests.console.sample_app:app",
        "call devok.echo n:=1\ncast devok.events.x\nhistory\n",
        SAMPLE_PREFIX="devok",
    )
    assert fine.returncode == 0 and fine.stderr == "", fine.stderr
    typo = await asyncio.to_thread(
        vincent_dev,
        "tests.console.sample_app:app",
        "call devok.ecoh n:=1\ncall devok.echo n:=2\n",
        SAMPLE_PREFIX="devok",
    )
    assert typo.returncode == 4, typo.stderr
    assert "did you mean devok.echo?" in typo.stdout
    assert "the first: 'call devok.ecoh n:=1': #1 no route (exit 4)" in typo.stderr


async def test_vincent_dead_on_memory_points_to_the_console() -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [VINCENT, "--broker", "memory://", "dead", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "memory:// is a broker inside one process" in done.stderr
    assert "`dead` in `vincent dev MODULE:OBJ`" in done.stderr
