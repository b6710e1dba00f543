"""Running the real ``vincent`` executable as a subprocess, as a user or a script would.

Fixtures here are imported by tests/cli/conftest.py; ``broker_url``, ``exchange`` and
``ns`` come from tests/conftest.py (a private RabbitMQ node for the session).
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
VINCENT = str(Path(sys.executable).with_name("vincent"))
APPS = "tests.cli.apps"


@dataclass
class Result:
    """What a finished ``vincent`` run left behind."""

    code: int
    stdout: bytes
    stderr: str

    @property
    def lines(self) -> list[Any]:
        """stdout as JSON lines."""
        return [orjson.loads(line) for line in self.stdout.splitlines() if line.strip()]


class Stream:
    """Collects a pipe's lines on a thread, so a test can wait for one with a deadline."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.lines: list[bytes] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        try:
            for line in iter(pipe.readline, b""):
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        except OSError:  # EIO: a pseudo-terminal whose process exited
            pass
        pipe.close()

    def wait_for(self, predicate: Callable[[bytes], bool], timeout: float = 30.0) -> bytes:
        """The first line matching ``predicate``, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching line within {timeout}s: {self.lines!r}")
                self._changed.wait(remaining)

    def finish(self, timeout: float = 10.0) -> bytes:
        """Everything, once the pipe closed."""
        self._thread.join(timeout)
        return b"".join(self.lines)


@dataclass
class Proc:
    """A running ``vincent`` with its output collected line by line."""

    process: subprocess.Popen[bytes]
    stdout: Stream
    stderr: Stream

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 60.0) -> Result:
        """Wait for the exit (killing it after ``timeout``) and collect the output."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return Result(code, self.stdout.finish(), self.stderr.finish().decode())


@dataclass
class Cli:
    """Runs ``vincent`` with the test broker and exchange in its environment."""

    env: dict[str, str]
    cwd: Path = ROOT
    running: list[Proc] = field(default_factory=list)

    def run(
        self, *args: str, input: bytes | None = None, timeout: float = 60.0, **env: str
    ) -> Result:
        """Run to completion."""
        done = subprocess.run(
            [VINCENT, *args],
            input=input,
            capture_output=True,
            env={**self.env, **env},
            cwd=self.cwd,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr.decode())

    def start(self, *args: str, **env: str) -> Proc:
        """Start in the background; stopped (SIGKILL) at the end of the test if still up."""
        process = subprocess.Popen(
            [VINCENT, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**self.env, **env},
            cwd=self.cwd,
        )
        assert process.stdout is not None and process.stderr is not None
        proc = Proc(process, Stream(process.stdout), Stream(process.stderr))
        self.running.append(proc)
        return proc

    def listen(self, *args: str, **env: str) -> Proc:
        """``vincent listen ...``, returned once its queue is bound (its ready line)."""
        proc = self.start("listen", *args, **env)
        proc.stderr.wait_for(lambda line: line.startswith(b"listening on"))
        return proc

    def serve(self, app: str = "echo", *args: str, **env: str) -> Proc:
        """``vincent serve tests.cli.apps.APP:app ...``, returned once it consumes."""
        proc = self.start("serve", f"{APPS}.{app}:app", *args, **env)
        proc.stdout.wait_for(lambda line: line.startswith(b"READY"), timeout=60)
        return proc

    def in_terminal(self, *args: str, **env: str) -> Proc:
        """Start with stdout and stderr on one pseudo-terminal (read as ``proc.stdout``)."""
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [VINCENT, *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env={**self.env, "COLUMNS": "120", **env},
            cwd=self.cwd,
        )
        os.close(follower)
        terminal = os.fdopen(leader, "rb", buffering=0)
        proc = Proc(process, Stream(terminal), Stream(open(os.devnull, "rb")))  # noqa: SIM115
        self.running.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.process.poll() is None:
                proc.process.send_signal(signal.SIGKILL)
                proc.process.wait()


def cli_env(broker_url: str, exchange: str) -> dict[str, str]:
    """The environment every test's ``vincent`` runs with."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VINCENT_", "AMQP_", "NO_COLOR", "COLUMNS"))
    }
    env.update(VINCENT_BROKER_URL=broker_url, VINCENT_EXCHANGE=exchange, PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def cli(broker_url: str, exchange: str) -> Iterator[Cli]:
    """A ``vincent`` runner on the test broker with this test's own exchange."""
    runner = Cli(cli_env(broker_url, exchange))
    yield runner
    runner.stop_all()


@pytest.fixture
def offline_cli(tmp_path: Path) -> Iterator[Cli]:
    """A ``vincent`` runner for commands that need no broker (cwd: a temp directory)."""
    env = cli_env("amqp://guest:guest@127.0.0.1:1/", "offline")
    runner = Cli(env, cwd=tmp_path)
    yield runner
    runner.stop_all()


def bash_complete(line: str, script: Path = ROOT / "completions" / "vincent.bash") -> list[str]:
    """What bash completes ``line`` to, with ``script`` sourced (a real bash)."""
    words = line.split(" ")
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_vincent\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.split()


@pytest.fixture
def prefix(ns: Callable[..., str]) -> str:
    """The key prefix of this test's echo app (``CLI_PREFIX``)."""
    return ns()


@pytest.fixture
def worker(cli: Cli, prefix: str) -> Iterator[Proc]:
    """``vincent serve`` of the echo app with this test's prefix, stopped gracefully."""
    proc = cli.serve("echo", CLI_PREFIX=prefix)
    yield proc
    proc.signal(15)
    assert proc.finish(timeout=60).code == 0
