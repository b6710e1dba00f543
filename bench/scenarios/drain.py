"""(2) Worker throughput: drain a backlog of casts through a trivial handler.

``vincent async [speed]`` drains in a process of its own with the ``[speed]`` extra
(uvloop): ``python -m bench.drainer``."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from bench import pika_side, speed
from bench.baseline import drain
from bench.node import REPO
from bench.runner import BASELINE, Metric, Scenario, Tally, Target
from bench.speed import SPEED

__all__ = ["Drain"]


class Drain(Scenario):
    number = 2
    name = "drain"
    variants = ("vincent async", "vincent def", f"vincent async {SPEED}")
    references = ("pika",)
    metrics = (Metric("msg/s", "higher", Target("≥ 1.0× pika", ">=", 1.0, "pika")),)

    @property
    def title(self) -> str:
        p = self.params
        return (
            f"worker throughput: drain {p.drain_count:,} casts; baselines prefetch {p.prefetch}, "
            "vincent its defaults"
        )

    async def setup(self) -> None:
        self.key = self.env.name("drain")
        await self.env.admin.queue(self.key)

    async def warm_up(self, side: str) -> None:
        await self.env.admin.fill(self.key, self.params.warmup)
        await self._drain(side, self.params.warmup)

    async def prepare(self, side: str) -> None:
        await self.env.admin.fill(self.key, self.params.drain_count)

    async def run(self, side: str) -> dict[str, float]:
        return {"msg/s": await self._drain(side, self.params.drain_count)}

    async def _drain(self, side: str, count: int) -> float:
        """Drain ``count`` waiting messages; returns messages per second."""
        tally = Tally(count)
        timeout = 60 + count / 500
        if side == "pika":
            seconds = await asyncio.to_thread(
                pika_side.drain, self.env.url, self.key, count, self.params.prefetch
            )
        elif side == BASELINE:
            task = asyncio.ensure_future(
                drain(self.env.url, self.key, tally.hit, self.params.prefetch)
            )
            try:
                seconds = await tally.wait(timeout)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        elif side.endswith(SPEED):
            seconds = await self._speed(count, timeout)
        else:
            seconds = await self._vincent(tally, side == "vincent async", timeout)
        await self.env.admin.wait_empty(self.key)
        return (count - 1) / seconds

    async def _speed(self, count: int, timeout: float) -> float:
        """The async drain in a process of its own with the ``[speed]`` extra (uvloop):
        ``python -m bench.drainer``, which times itself from first message to last."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.drainer",
            self.env.url,
            self.env.exchange,
            self.key,
            str(count),
            cwd=REPO,
            env=speed.environ(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            output, error = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        lines = output.decode().split()
        if process.returncode != 0 or lines[:2] != ["loop", "uvloop"]:
            raise RuntimeError(f"bench.drainer: {output.decode()} {error.decode()[-500:]}")
        return float(lines[2])

    async def _vincent(self, tally: Tally, is_async: bool, timeout: float) -> float:
        from vincent_core import Message, Vincent

        # Default settings, as users run it (the baselines keep prefetch 100).
        app = Vincent(self.env.url, exchange=self.env.exchange)
        if is_async:

            @app.listen(self.key)
            async def handle(msg: Message) -> None:
                tally.hit()

        else:

            @app.listen(self.key)
            def handle_in_thread(msg: Message) -> None:
                tally.hit_from_thread()

        async with app.running(grace=10.0):
            return await tally.wait(timeout)
