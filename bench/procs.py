"""Starting worker processes, waiting for them, reading their memory, stopping them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from bench import speed as extra
from bench.node import REPO

__all__ = ["WorkerProcess", "memory_mb", "start_tracer", "stop_process"]


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A ``/proc/PID/status`` memory field (``VmRSS`` now, ``VmHWM`` peak) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


#: roles that run as a user runs them: ``vincent serve MODULE:OBJ`` with default settings
SERVED = {
    "vincent-echo": "bench.apps:echo",
    "vincent-chain": "bench.apps:chain",
    "vincent-typed": "bench.typed_app:app",
}


class WorkerProcess:
    """A worker in its own process, ready once it consumes: ``vincent serve`` for the
    vincent echo and chain roles (:data:`SERVED`), ``python -m bench.worker ROLE ...`` for
    the others; with ``speed``, the ``[speed]`` extra is importable in it."""

    def __init__(
        self, role: str, url: str, exchange: str, *keys: str, prefetch: int, speed: bool = False
    ) -> None:
        self.role = role
        self.env: dict[str, str] | None = None
        if role in SERVED:
            self.arguments = ["-m", "vincent_cli", "serve", SERVED[role]]
            self.env = {
                **os.environ,
                "VINCENT_BROKER_URL": url,
                "VINCENT_EXCHANGE": exchange,
                "BENCH_KEYS": ",".join(keys),
            }
        else:
            self.arguments = ["-m", "bench.worker", role, url, exchange, *keys]
            self.arguments += ["--prefetch", str(prefetch)]
        if speed:
            self.env = extra.environ(self.env)
        self.process: asyncio.subprocess.Process | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __aexit__

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 60.0) -> WorkerProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.arguments,
            cwd=REPO,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
        )
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            line = b""
        if line.strip() != b"ready":
            await self.stop()
            raise RuntimeError(f"worker {self.role} did not start:\n{self.log_tail()}")
        return self

    def log_tail(self, lines: int = 20) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def send(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None:
            await stop_process(self.process, timeout)

    async def __aenter__(self) -> WorkerProcess:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        self._log.close()


async def start_tracer(
    url: str, exchange: str, key: str, *, stdout: int = asyncio.subprocess.DEVNULL
) -> asyncio.subprocess.Process:
    """``vincent trace KEY`` writing its JSON lines to ``stdout``, once it reads.

    Nothing more is read from its stderr: it stays quiet unless something goes wrong.
    """
    vincent = str(Path(sys.executable).with_name("vincent"))
    env = {**os.environ, "VINCENT_BROKER_URL": url, "VINCENT_EXCHANGE": exchange}
    process = await asyncio.create_subprocess_exec(
        vincent, "trace", key, cwd=REPO, env=env, stdout=stdout, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), 30)
    if not line.startswith(b"tracing exchange"):
        process.kill()
        await process.wait()
        raise RuntimeError(f"vincent trace did not start: {line.decode(errors='replace')}")
    return process


async def stop_process(process: asyncio.subprocess.Process, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL past ``timeout`` seconds; nothing if it already ended."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
