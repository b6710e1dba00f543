"""(1) Cast throughput: many confirmed casts in flight from one client."""

from __future__ import annotations

import time

from bench.baseline import Publisher
from bench.broker import in_flight
from bench.params import body
from bench.runner import Metric, Scenario, Target

__all__ = ["Cast"]


class Cast(Scenario):
    number = 1
    name = "cast"
    metrics = (Metric("msg/s", "higher", Target("≥ 2.5× aio-pika", ">=", 2.5)),)

    @property
    def title(self) -> str:
        p = self.params
        return f"cast throughput: {p.cast_count:,} confirmed casts, {p.cast_in_flight:,} in flight"

    async def setup(self) -> None:
        self.key = self.env.name("cast")
        await self.env.admin.queue(self.key)

    async def warm_up(self, side: str) -> None:
        await self._send(side, self.params.warmup)

    async def prepare(self, side: str) -> None:
        await self.env.admin.purge(self.key)

    async def run(self, side: str) -> dict[str, float]:
        count = self.params.cast_count
        seconds = await self._send(side, count)
        return {"msg/s": count / seconds}

    async def _send(self, side: str, count: int) -> float:
        lanes = self.params.cast_in_flight
        if side == "vincent":
            from vincent_core import Client

            async with Client(self.env.url, exchange=self.env.exchange) as client:
                started = time.perf_counter()
                await in_flight(count, lanes, lambda n: client.cast(self.key, body(n)))
                seconds = time.perf_counter() - started
        else:
            async with Publisher(self.env.url, self.env.exchange) as publisher:
                started = time.perf_counter()
                await in_flight(count, lanes, lambda n: publisher.cast(self.key, body(n)))
                seconds = time.perf_counter() - started
        return seconds
