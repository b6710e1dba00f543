"""(9) what validation costs: a typed echo against an untyped one, both vincent."""

from __future__ import annotations

from bench.procs import WorkerProcess
from bench.runner import Metric, Target
from bench.scenarios.calls import CallThroughput

__all__ = ["TypedCalls"]

TYPED, UNTYPED = "vincent typed", "vincent untyped"


class TypedCalls(CallThroughput):
    """Calls with 64 in flight to an echo worker whose handler is typed (the body
    validated into a five-field pydantic model, the reply serialised from it) and to one
    whose handler is not. The caller is the same untyped ``Client`` for both, so the
    difference is the worker's validation and serialisation. Measured as scenario 4."""

    number = 9
    name = "typed"
    variants = (TYPED,)
    baseline = UNTYPED
    metrics = (Metric("calls/s", "higher", Target("≥ 0.9× untyped", ">=", 0.9)),)

    @property
    def title(self) -> str:
        p = self.params
        return (
            f"typed vs untyped echo: {p.call_count:,} calls, {p.call_in_flight} in flight "
            "(ratio: typed / untyped)"
        )

    async def setup(self) -> None:
        self.keys = {}
        self.workers = []
        for side, role in ((TYPED, "vincent-typed"), (UNTYPED, "vincent-echo")):
            key = self.env.name(f"{self.name}.{side}")
            self.keys[side] = [key]
            worker = WorkerProcess(
                role, self.env.url, self.env.exchange, key, prefetch=self.params.prefetch
            )
            self.workers.append(await worker.start())
