"""The seven scenarios of issue 7, the firehose's cost (issue 16) and what typed handlers
cost (issue 17) and what `vincent trace` holds (issue 18), in table order."""

from __future__ import annotations

from bench.runner import Scenario
from bench.scenarios.backlog import Backlog
from bench.scenarios.calls import CallLatency, CallThroughput, Chain
from bench.scenarios.cast import Cast
from bench.scenarios.drain import Drain
from bench.scenarios.firehose import FirehoseCost
from bench.scenarios.oneshot import OneShot
from bench.scenarios.trace_rss import TraceRSS
from bench.scenarios.typed import TypedCalls

__all__ = ["ALL"]

ALL: tuple[type[Scenario], ...] = (
    Cast,
    Drain,
    CallLatency,
    CallThroughput,
    Chain,
    OneShot,
    Backlog,
    FirehoseCost,
    TypedCalls,
    TraceRSS,
)
