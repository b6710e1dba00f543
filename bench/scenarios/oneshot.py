"""(6) ``vincent cast`` and ``vincent call`` as one-shot processes against a ten-line
aio-pika script: every variant (headers, ``--ttl``, ``--dry-run``, a call answered by a
worker run with ``vincent serve bench.apps:echo``) has the same target, and ``--version``
is shown beside ``--help``."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from bench.params import body_bytes
from bench.procs import WorkerProcess
from bench.runner import BASELINE, Metric, Scenario, Target

__all__ = ["OneShot"]

SCRIPT = Path(__file__).resolve().parent.parent / "oneshot_aiopika.py"
VINCENT = Path(sys.executable).parent / "vincent"


class OneShot(Scenario):
    number = 6
    name = "one-shot"
    variants = (
        "vincent",
        "vincent -H k:v",
        "vincent --ttl 5",
        "vincent --dry-run",
        "vincent call",
    )
    references = ("python -c pass", "import aio_pika", "vincent --help", "vincent --version")
    metrics = (Metric("wall ms", "lower", Target("≤ 1.0× aio-pika", "<=", 1.0)),)

    @property
    def title(self) -> str:
        runs = self.params.oneshot_runs
        return f"one-shot publish process: `vincent cast` vs aio-pika script, {runs} runs a round"

    async def setup(self) -> None:
        if not VINCENT.exists():
            raise RuntimeError(f"{VINCENT} is missing: is the vincent CLI installed?")
        # aio-pika comes from a wheel, whose install compiled it to .pyc; the editable
        # vincent is compiled at each start when PYTHONDONTWRITEBYTECODE is set (it is in
        # some containers and CI images). Compile it once, as a wheel install would.
        import compileall

        import vincent_cli
        import vincent_core

        for package in (vincent_core, vincent_cli):
            compileall.compile_dir(Path(str(package.__file__)).parent, quiet=1)
        self.key = self.env.name("oneshot")
        await self.env.admin.queue(self.key)
        self.body = body_bytes(1).decode()
        # The call variant's worker runs as users run it: `vincent serve bench.apps:echo`.
        self.call_key = self.env.name("oneshot-call")
        self.worker = await WorkerProcess(
            "vincent-echo", self.env.url, self.env.exchange, self.call_key, prefetch=1
        ).start()

    async def teardown(self) -> None:
        await self.worker.stop()

    def command(self, side: str) -> list[str]:
        url, exchange = self.env.url, self.env.exchange
        if side.startswith("vincent"):
            words = side.split()[1:]
            if words in (["--help"], ["--version"]):
                return [str(VINCENT), *words]
            command, key = ("call", self.call_key) if words == ["call"] else ("cast", self.key)
            options = [] if command == "call" else words
            return [
                str(VINCENT),
                "--broker",
                url,
                "--exchange",
                exchange,
                command,
                key,
                self.body,
                *options,
            ]
        if side == BASELINE:
            return [sys.executable, str(SCRIPT), url, exchange, self.key, self.body]
        if side == "python -c pass":
            return [sys.executable, "-c", "pass"]
        return [sys.executable, "-c", "import aio_pika"]

    async def once(self, side: str) -> float:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VINCENT_")}
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *self.command(side),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        _, error = await process.communicate()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{side} exited {process.returncode}: {error.decode()[-500:]}")
        return seconds * 1000

    async def warm_up(self, side: str) -> None:
        await self.once(side)

    async def prepare(self, side: str) -> None:
        await self.env.admin.purge(self.key)

    async def run(self, side: str) -> dict[str, float]:
        times = [await self.once(side) for _ in range(self.params.oneshot_runs)]
        return {"wall ms": statistics.median(times)}
