"""(10) what ``vincent trace`` holds: its RSS with 10,000 calls waiting for replies.

Issue 18's bound: ``vincent trace`` with 10,000 pending calls stays under 50 MiB. Each
round starts a fresh ``vincent trace KEY`` (JSON lines to a pipe), publishes the call
requests (as ``Client.call`` builds them, with a timeout of ten minutes, never answered:
a queue without consumers holds them), then one cast. The firehose copies one publisher's
messages in order, so when the cast's line comes out, the tracer has taken in every
call; its RSS and peak RSS (``VmHWM``) are read then. The baseline is the same tracer
with nothing pending, read after its own cast: the difference is what the pending
calls cost. Needs the bench's private node (``rabbitmqctl trace_on``).
"""

from __future__ import annotations

import asyncio

from bench.node import NODES
from bench.procs import memory_mb, start_tracer, stop_process
from bench.runner import Metric, Scenario, Target

__all__ = ["TraceRSS"]

PENDING = "10,000 pending"
IDLE = "idle tracer"
#: the tracer's default bound on pending calls (``--max-pending``)
CALLS = 10_000


class TraceRSS(Scenario):
    number = 10
    name = "trace RSS"
    variants = (PENDING,)
    baseline = IDLE
    metrics = (
        Metric("RSS MiB", "lower", Target("< 50 MiB", "<=", 50.0, "vincent")),
        Metric("peak MiB", "lower"),
    )

    @property
    def title(self) -> str:
        return f"`vincent trace` memory with {CALLS:,} calls waiting for replies (vs idle)"

    async def setup(self) -> None:
        if not NODES:
            raise RuntimeError("needs the bench's private node (rabbitmqctl trace_on), not --url")
        self.node = NODES[-1]
        self.key = self.env.name("trace-rss")
        await self.env.admin.queue(self.key)
        await asyncio.to_thread(self.node.rabbitmqctl, "trace_on")

    async def teardown(self) -> None:
        if hasattr(self, "node"):
            await asyncio.to_thread(self.node.rabbitmqctl, "trace_off")

    async def prepare(self, side: str) -> None:
        await self.env.admin.purge(self.key)

    async def run(self, side: str) -> dict[str, float]:
        tracer = await start_tracer(
            self.env.url, self.env.exchange, self.key, stdout=asyncio.subprocess.PIPE
        )
        try:
            calls = CALLS if side == PENDING else 0
            if calls:
                await self.env.admin.fill_calls(
                    self.key, calls, reply_to="amq.rabbitmq.reply-to.bench", timeout=600
                )
            await self.env.admin.fill(self.key, 1)
            assert tracer.stdout is not None
            line = await asyncio.wait_for(tracer.stdout.readline(), 60)
            if b'"cast"' not in line:
                raise RuntimeError(f"vincent trace printed {line[:200]!r}, not the cast")
            return {
                "RSS MiB": memory_mb(tracer.pid),
                "peak MiB": memory_mb(tracer.pid, "VmHWM"),
            }
        finally:
            await stop_process(tracer)
