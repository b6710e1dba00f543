"""How much each scenario sends (full run or ``--quick`` smoke test) and the message body."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["FULL", "QUICK", "Params", "body", "body_bytes"]


@dataclass(frozen=True)
class Params:
    """Message counts and windows; ``FULL`` follows issue 7."""

    rounds: int = 3
    cast_count: int = 20_000
    cast_in_flight: int = 1_000
    drain_count: int = 20_000
    prefetch: int = 100
    latency_count: int = 2_000
    call_count: int = 10_000
    call_in_flight: int = 64
    chain_count: int = 5_000
    oneshot_runs: int = 5
    backlog: int = 100_000
    rss_prefetch: int = 32
    rss_seconds: float = 3.0
    warmup: int = 200

    def with_rounds(self, rounds: int | None) -> Params:
        """A copy with another number of rounds (``--rounds``)."""
        return self if rounds is None else dataclasses.replace(self, rounds=rounds)


FULL = Params()
QUICK = Params(
    rounds=2,
    cast_count=2_000,
    drain_count=2_000,
    latency_count=200,
    call_count=1_000,
    chain_count=500,
    oneshot_runs=2,
    backlog=5_000,
    rss_seconds=1.0,
    warmup=50,
)


def body(n: int) -> dict[str, Any]:
    """A typical small JSON message, ~120 bytes encoded."""
    return {
        "file": f"/gfs1/archive/2024/11/28/report-{n:08d}.dat",
        "key_id": 1234,
        "user": "operations@example.com",
        "size": 1_048_576,
        "n": n,
    }


def body_bytes(n: int) -> bytes:
    """:func:`body` as compact JSON."""
    import orjson

    return orjson.dumps(body(n))
