"""Scenarios, their rounds, and the medians and ratios that come out of them."""

from __future__ import annotations

import abc
import asyncio
import itertools
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from bench import speed
from bench.broker import Admin
from bench.params import Params

__all__ = [
    "BASELINE",
    "Env",
    "Metric",
    "Row",
    "Scenario",
    "ScenarioResult",
    "Tally",
    "Target",
    "percentile",
    "run_scenario",
]

BASELINE = "aio-pika"
Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Target:
    """A goal: on the ratio vincent/aio-pika (``ratio``), on the ratio to a reference
    column (``pika``), or on vincent's own value (``vincent``)."""

    text: str
    op: Literal[">=", "<="]
    value: float
    on: str = "ratio"

    def met(self, row: Row) -> bool | None:
        if self.on == "ratio":
            measured = row.ratio
        elif self.on == "vincent":
            measured = row.vincent
        else:
            measured = row.ratio_to(self.on)
        if measured is None:
            return None
        return measured >= self.value if self.op == ">=" else measured <= self.value


@dataclass(frozen=True)
class Metric:
    """One measured quantity of a scenario."""

    name: str
    better: Better
    target: Target | None = None


@dataclass
class Env:
    """What every scenario shares: the broker, a private exchange, the sizes."""

    url: str
    params: Params
    admin: Admin
    exchange: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:6]}")
    queues: list[str] = field(default_factory=list)

    def name(self, suffix: str) -> str:
        """A key/queue name private to this run (remembered for clean-up); a side's
        name (``vincent [speed]``) is made a valid one."""
        full = f"{self.exchange}.{re.sub(r'[^A-Za-z0-9_.-]+', '-', suffix).strip('-')}"
        self.queues.append(full)
        return full


class Scenario(abc.ABC):
    """One scenario: vincent variants and the baseline, measured alternately."""

    number: int
    name: str
    metrics: tuple[Metric, ...]
    variants: tuple[str, ...] = ("vincent",)
    references: tuple[str, ...] = ()
    #: the side the variants are compared with (ratio = variant / baseline)
    baseline: str = BASELINE

    def __init__(self, env: Env) -> None:
        self.env = env
        self.params = env.params

    @property
    @abc.abstractmethod
    def title(self) -> str:
        """One line: what is measured, with the sizes of this run."""

    @property
    def sides(self) -> tuple[str, ...]:
        """Every side measured: ``[speed]`` variants only when the extra is installed."""
        sides = (*self.variants, self.baseline, *self.references)
        return tuple(s for s in sides if not s.endswith(speed.SPEED) or speed.available())

    async def setup(self) -> None:  # noqa: B027 - a hook; doing nothing is the default
        """Untimed preparation (queues, worker processes)."""

    async def warm_up(self, side: str) -> None:  # noqa: B027 - a hook; doing nothing is the default
        """An unrecorded short run, so no side pays first-use costs in round 1."""

    async def prepare(self, side: str) -> None:  # noqa: B027 - a hook; doing nothing is the default
        """Untimed work before each measured run (filling a queue)."""

    @abc.abstractmethod
    async def run(self, side: str) -> dict[str, float]:
        """One measured run of ``side``: metric name -> value."""

    async def teardown(self) -> None:  # noqa: B027 - a hook; doing nothing is the default
        """Undo :meth:`setup`."""


class Tally:
    """Counts handled messages; the rate runs from the first one to the last.

    ``hit`` is for the event loop's thread, ``hit_from_thread`` for handler threads.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.first = 0.0
        self.last = 0.0
        self.done = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._counter = itertools.count(1)

    def hit(self) -> None:
        now = time.perf_counter()
        if self.seen == 0:
            self.first = now
        self.seen += 1
        if self.seen == self.count:
            self.last = now
            self.done.set()

    def hit_from_thread(self) -> None:
        now = time.perf_counter()
        # next() on itertools.count is atomic under the GIL; "+= 1" is not.
        seen = next(self._counter)
        if seen == 1:
            self.first = now
        if seen == self.count:
            self.seen = seen
            self.last = now
            self._loop.call_soon_threadsafe(self.done.set)

    async def wait(self, timeout: float) -> float:
        """Seconds from the first message to the last, once all arrived."""
        await asyncio.wait_for(self.done.wait(), timeout)
        return max(self.last - self.first, 1e-9)

    def rate(self, seconds: float) -> float:
        return (self.count - 1) / seconds


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


@dataclass
class Row:
    """One line of the table: a vincent variant's metric against the baseline."""

    scenario: str
    variant: str
    metric: str
    better: Better
    vincent: float | None
    baseline: float | None
    references: dict[str, float]
    target: str
    met: bool | None
    #: what the baseline column holds for this row (aio-pika unless the scenario says)
    baseline_name: str = BASELINE

    @property
    def ratio(self) -> float | None:
        if self.vincent is None or not self.baseline:
            return None
        return self.vincent / self.baseline

    def ratio_to(self, reference: str) -> float | None:
        """vincent / a reference column (``pika``), when both were measured."""
        other = self.references.get(reference)
        if self.vincent is None or not other:
            return None
        return self.vincent / other


@dataclass
class ScenarioResult:
    """Every sample of a scenario, and what the table shows of it."""

    number: int
    name: str
    title: str
    samples: dict[str, dict[str, list[float]]]
    seconds: float
    error: str | None = None

    def median(self, side: str, metric: str) -> float | None:
        values = self.samples.get(side, {}).get(metric)
        return statistics.median(values) if values else None

    def rows(self, scenario: Scenario) -> list[Row]:
        result: list[Row] = []
        for variant in scenario.variants:
            for metric in scenario.metrics:
                vincent = self.median(variant, metric.name)
                baseline = self.median(scenario.baseline, metric.name)
                references = {
                    ref: value
                    for ref in scenario.references
                    if (value := self.median(ref, metric.name)) is not None
                }
                row = Row(
                    f"{self.number} {self.name}",
                    variant,
                    metric.name,
                    metric.better,
                    vincent,
                    baseline,
                    references,
                    metric.target.text if metric.target else "",
                    None,
                    scenario.baseline,
                )
                if metric.target is not None:
                    row.met = metric.target.met(row)
                result.append(row)
        return result

    def to_json(self, scenario: Scenario) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "title": self.title,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "samples": self.samples,
            "rows": [
                {**vars(row), "ratio": row.ratio, "ratio_pika": row.ratio_to("pika")}
                for row in self.rows(scenario)
            ],
        }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _brief(sample: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:,.2f}" for name, value in sample.items())


async def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Set up, warm up every side, then run the sides in turn, round after round."""
    started = time.perf_counter()
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    result = ScenarioResult(scenario.number, scenario.name, scenario.title, {}, 0.0)
    _say(f"[{scenario.number}] {scenario.title}")
    try:
        try:
            await scenario.setup()
            for side in scenario.sides:
                await scenario.warm_up(side)
            for round_number in range(1, scenario.params.rounds + 1):
                for side in scenario.sides:
                    await scenario.prepare(side)
                    sample = await scenario.run(side)
                    for metric, value in sample.items():
                        samples[side][metric].append(value)
                    _say(f"    round {round_number} {side:<16} {_brief(sample)}")
        finally:
            await scenario.teardown()
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        _say(f"    FAILED: {result.error}")
    result.samples = {side: dict(metrics) for side, metrics in samples.items()}
    result.seconds = time.perf_counter() - started
    return result
