"""(7) A worker's peak RSS while a large backlog waits in its queue, against its idle RSS."""

from __future__ import annotations

import asyncio
import signal

from bench.params import body_bytes
from bench.procs import WorkerProcess, memory_mb
from bench.runner import BASELINE, Metric, Scenario, Target

__all__ = ["Backlog"]

SETTLE_SECONDS = 1.0
SAMPLE_EVERY = 0.05


class Backlog(Scenario):
    number = 7
    name = "backlog RSS"
    metrics = (
        Metric("idle MiB", "lower"),
        Metric("peak MiB", "lower"),
        Metric(
            "peak/bound", "lower", Target("≤ 1.0 (1.2×idle + prefetch×size)", "<=", 1.0, "vincent")
        ),
        Metric("msg/s", "higher"),
    )

    @property
    def title(self) -> str:
        p = self.params
        return (
            f"worker RSS: idle, then consuming with {p.backlog:,} messages waiting "
            f"(prefetch {p.rss_prefetch}, 20 ms handler, {p.rss_seconds:g} s)"
        )

    async def setup(self) -> None:
        self.key = self.env.name("backlog")
        await self.env.admin.queue(self.key)
        await self.env.admin.fill(self.key, self.params.backlog)

    async def prepare(self, side: str) -> None:
        await self.env.admin.top_up(self.key, self.key, self.params.backlog)

    async def run(self, side: str) -> dict[str, float]:
        params, admin = self.params, self.env.admin
        role = f"{'aio-pika' if side == BASELINE else 'vincent'}-rss"
        worker = WorkerProcess(
            role, self.env.url, self.env.exchange, self.key, prefetch=params.rss_prefetch
        )
        async with worker:
            await asyncio.sleep(SETTLE_SECONDS)
            idle = memory_mb(worker.pid)
            before = await admin.depth(self.key)
            worker.send(signal.SIGUSR1)
            peak = idle
            loop = asyncio.get_running_loop()
            end = loop.time() + params.rss_seconds
            while loop.time() < end:
                await asyncio.sleep(SAMPLE_EVERY)
                peak = max(peak, memory_mb(worker.pid))
            consumed = before - await admin.depth(self.key)
        if consumed <= 0:
            raise RuntimeError(f"{side}: the worker consumed nothing from the backlog")
        bound = 1.2 * idle + params.rss_prefetch * len(body_bytes(0)) / 2**20
        return {
            "idle MiB": idle,
            "peak MiB": peak,
            "peak/bound": peak / bound,
            "msg/s": consumed / params.rss_seconds,
        }
