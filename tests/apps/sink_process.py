"""Run ``tests.apps.sink`` as a worker process, and read what it handled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class SinkWorker:
    """A ``tests.apps.sink`` worker process, started and READY on construction.

    ``env`` adds ``SINK_*`` settings; stderr goes to ``log`` (by default a file beside
    the sink, unique per worker).
    """

    def __init__(
        self,
        url: str,
        exchange: str,
        key: str,
        sink: Path,
        log: Path | None = None,
        **env: str,
    ) -> None:
        environ = dict(
            os.environ,
            VINCENT_BROKER_URL=url,
            VINCENT_EXCHANGE=exchange,
            SINK_KEY=key,
            SINK_FILE=str(sink),
            PYTHONPATH=str(ROOT),
            **env,
        )
        log = log or sink.with_suffix(f".{time.monotonic_ns()}.log")
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.apps.sink"],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "READY", log.read_text()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


def handled(sink: Path) -> Counter[int]:
    """How many times each message number was handled, from the sink file."""
    if not sink.exists():
        return Counter()
    return Counter(int(line.split()[0]) for line in sink.read_text().splitlines() if line)
