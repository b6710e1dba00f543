"""(3) call latency, (4) call throughput, (5) a nested chain: echo workers in other processes.

The ``vincent [speed]`` rows run the same ``vincent serve`` worker with the ``[speed]``
extra importable (uvloop); the caller is the bench's ``Client`` either way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import pika_side
from bench.baseline import RpcClient
from bench.broker import in_flight
from bench.params import body
from bench.procs import WorkerProcess
from bench.runner import BASELINE, Metric, Scenario, Target, percentile
from bench.speed import SPEED

__all__ = ["CallLatency", "CallThroughput", "Chain"]

Call = Callable[[str, Any], Awaitable[Any]]


class _Calls(Scenario):
    """Runs one worker process per side for the whole scenario; the bench process calls."""

    role = "echo"

    async def setup(self) -> None:
        self.keys: dict[str, list[str]] = {}
        self.workers: list[WorkerProcess] = []
        for side in self.sides:
            keys = [self.env.name(f"{self.name}.{side}")]
            if self.role == "chain":
                keys.append(keys[0] + ".b")
                self.env.queues.append(keys[1])
            self.keys[side] = keys
            worker = WorkerProcess(
                f"{_library(side)}-{self.role}",
                self.env.url,
                self.env.exchange,
                *keys,
                prefetch=self.params.prefetch,
                speed=side.endswith(SPEED),
            )
            self.workers.append(await worker.start())

    async def teardown(self) -> None:
        for worker in getattr(self, "workers", []):
            await worker.stop()

    async def with_caller(self, side: str, work: Callable[[Call, str], Awaitable[float]]) -> float:
        """Connect a caller for ``side`` (untimed), warm it up, and run ``work``."""
        key = self.keys[side][0]
        if side == BASELINE:
            async with RpcClient(self.env.url, self.env.exchange) as rpc:
                await _warm(rpc.call, key, self.params.warmup)
                return await work(rpc.call, key)
        from vincent_core import Client

        async with Client(self.env.url, exchange=self.env.exchange) as client:
            await _warm(client.call, key, self.params.warmup)
            return await work(client.call, key)

    async def warm_up(self, side: str) -> None:
        await self.with_caller(side, _nothing)


def _library(side: str) -> str:
    """``vincent [speed]`` -> ``vincent``; ``aio-pika`` and ``pika`` stay."""
    return side.split()[0]


async def _warm(call: Call, key: str, count: int) -> None:
    for number in range(count):
        await call(key, body(number))


async def _nothing(call: Call, key: str) -> float:
    return 0.0


class CallLatency(_Calls):
    number = 3
    name = "latency"
    variants: tuple[str, ...] = ("vincent", f"vincent {SPEED}")
    references = ("pika",)
    metrics = (
        Metric("p50 ms", "lower", Target("≤ 1.0× pika", "<=", 1.0, "pika")),
        Metric("p90 ms", "lower"),
        Metric("p99 ms", "lower", Target("≤ 1.0× pika", "<=", 1.0, "pika")),
    )

    @property
    def title(self) -> str:
        return f"call latency: {self.params.latency_count:,} sequential calls to an echo worker"

    async def warm_up(self, side: str) -> None:
        if side == "pika":
            await self._pika(self.params.warmup)
        else:
            await super().warm_up(side)

    async def _pika(self, count: int) -> list[float]:
        key = self.keys["pika"][0]
        return await asyncio.to_thread(
            pika_side.latency, self.env.url, self.env.exchange, key, count, self.params.warmup
        )

    async def run(self, side: str) -> dict[str, float]:
        times: list[float] = []
        if side == "pika":
            times = await self._pika(self.params.latency_count)

        async def sequential(call: Call, key: str) -> float:
            for number in range(self.params.latency_count):
                started = time.perf_counter()
                await call(key, body(number))
                times.append((time.perf_counter() - started) * 1000)
            return 0.0

        if side != "pika":
            await self.with_caller(side, sequential)
        times.sort()
        return {f"p{q} ms": percentile(times, q / 100) for q in (50, 90, 99)}


class CallThroughput(_Calls):
    number = 4
    name = "calls"
    variants: tuple[str, ...] = ("vincent", f"vincent {SPEED}")
    metrics = (Metric("calls/s", "higher", Target("≥ 2.5× aio-pika", ">=", 2.5)),)

    @property
    def title(self) -> str:
        p = self.params
        return f"call throughput: {p.call_count:,} calls, {p.call_in_flight} in flight"

    async def run(self, side: str) -> dict[str, float]:
        count = self.params.call_count

        async def parallel(call: Call, key: str) -> float:
            started = time.perf_counter()
            await in_flight(count, self.params.call_in_flight, lambda n: call(key, body(n)))
            return time.perf_counter() - started

        return {"calls/s": count / await self.with_caller(side, parallel)}


class Chain(CallThroughput):
    number = 5
    name = "chain"
    role = "chain"
    variants = ("vincent",)
    metrics = (Metric("chains/s", "higher"),)

    @property
    def title(self) -> str:
        p = self.params
        return f"nested chain a→b: {p.chain_count:,} calls to a, {p.call_in_flight} in flight"

    async def run(self, side: str) -> dict[str, float]:
        count = self.params.chain_count

        async def parallel(call: Call, key: str) -> float:
            started = time.perf_counter()
            await in_flight(count, self.params.call_in_flight, lambda n: call(key, body(n)))
            return time.perf_counter() - started

        return {"chains/s": count / await self.with_caller(side, parallel)}
