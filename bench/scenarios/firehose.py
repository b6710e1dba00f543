"""(8) what the firehose costs: call throughput with tracing on (and `vincent trace`
reading it) against the same calls with tracing off.

RabbitMQ copies every publish on the vhost to ``amq.rabbitmq.trace`` while tracing is on;
``vincent trace`` receives the copies of the requests and of the replies and pairs them.
Both sides call the same vincent echo worker; ``rabbitmqctl trace_on``/``trace_off``
switches between them before each run (untimed). Needs the bench's private node: with
``--url`` there is no ``rabbitmqctl`` to call, and the scenario says so.
"""

from __future__ import annotations

import asyncio

from bench.node import NODES
from bench.procs import WorkerProcess, start_tracer, stop_process
from bench.runner import Metric
from bench.scenarios.calls import CallThroughput

__all__ = ["FirehoseCost"]

ON = "tracing on"
OFF = "tracing off"


class FirehoseCost(CallThroughput):
    number = 8
    name = "firehose"
    variants = (ON,)
    baseline = OFF
    metrics = (Metric("calls/s", "higher"),)

    @property
    def title(self) -> str:
        p = self.params
        return (
            f"firehose cost: {p.call_count:,} calls, {p.call_in_flight} in flight, "
            "tracing on (vincent trace reading it) vs off"
        )

    async def setup(self) -> None:
        if not NODES:
            raise RuntimeError("needs the bench's private node (rabbitmqctl trace_on), not --url")
        self.node = NODES[-1]
        key = self.env.name("firehose")
        self.keys = {ON: [key], OFF: [key]}
        worker = WorkerProcess(
            "vincent-echo", self.env.url, self.env.exchange, key, prefetch=self.params.prefetch
        )
        self.workers = [await worker.start()]
        await self._tracing(True)
        self.tracer = await start_tracer(self.env.url, self.env.exchange, key)

    async def _tracing(self, on: bool) -> None:
        await asyncio.to_thread(self.node.rabbitmqctl, "trace_on" if on else "trace_off")

    async def prepare(self, side: str) -> None:
        await self._tracing(side == ON)

    async def warm_up(self, side: str) -> None:
        await self._tracing(side == ON)
        await super().warm_up(side)

    async def teardown(self) -> None:
        tracer = getattr(self, "tracer", None)
        if tracer is not None:
            await stop_process(tracer)
        if hasattr(self, "node"):
            await self._tracing(False)
        await super().teardown()
