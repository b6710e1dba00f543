"""``python -m bench``: every scenario, vincent against raw aio-pika, on a private node.

::

    python -m bench                 # the full run (~4 min on 2 cores); updates README + JSON
    python -m bench --quick         # a smoke test with small counts
    python -m bench --only cast,latency --url amqp://guest:guest@127.0.0.1:5672/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import speed
from bench.broker import Admin
from bench.node import REPO, private_node
from bench.params import FULL, QUICK, Params
from bench.report import machine, machine_line, text_table, update_readme
from bench.runner import Env, Row, Scenario, ScenarioResult, run_scenario
from bench.scenarios import ALL

HERE = Path(__file__).resolve().parent


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 3, quick 2)")
    parser.add_argument("--url", help="use this broker instead of starting a private node")
    parser.add_argument(
        "--only", help="comma-separated scenario numbers or names (cast,drain,latency,...)"
    )
    parser.add_argument("--json", type=Path, help="where to write results (default: see README)")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    return parser.parse_args(argv)


def select(only: str | None) -> list[type[Scenario]]:
    if not only:
        return list(ALL)
    wanted = {part.strip() for part in only.split(",") if part.strip()}
    chosen = [s for s in ALL if str(s.number) in wanted or s.name.split()[0] in wanted]
    if not chosen:
        raise SystemExit(f"no scenario matches {only!r}")
    return chosen


async def run_all(
    url: str, params: Params, chosen: list[type[Scenario]]
) -> tuple[dict[str, Any], list[tuple[Scenario, ScenarioResult]]]:
    env = Env(url, params, Admin(url, ""))
    env.admin.exchange = env.exchange
    await env.admin.open()
    info = machine(env.admin.server_version)
    print(f"machine: {machine_line(info)}", file=sys.stderr)
    if info["load_at_start"] > info["nproc"] / 2:
        print("warning: the machine is busy; ratios will be noisy", file=sys.stderr)
    # A fresh node's first persistent burst is slow (message store files appear): pay it
    # here, not in the first measured round.
    prime = env.name("prime")
    await env.admin.queue(prime)
    await env.admin.fill(prime, params.cast_count)
    await env.admin.delete(prime)
    outcomes: list[tuple[Scenario, ScenarioResult]] = []
    try:
        for scenario_class in chosen:
            scenario = scenario_class(env)
            outcomes.append((scenario, await run_scenario(scenario)))
    finally:
        await env.admin.delete(*env.queues)
        await env.admin.close()
    return info, outcomes


def reference_notes(outcomes: list[tuple[Scenario, ScenarioResult]]) -> list[str]:
    """The reference sides the table has no column for (only pika has one): scenario 6's
    ``python -c pass``, ``import aio_pika``, ``vincent --help`` and ``--version``."""
    notes = []
    for scenario, result in outcomes:
        shown = []
        for side in scenario.references:
            if side == "pika":
                continue
            for metric in scenario.metrics:
                value = result.median(side, metric.name)
                if value is not None:
                    shown.append(f"{side} {value:,.1f} {metric.name}")
        if shown:
            notes.append(f"({scenario.number} {scenario.name}) references: {', '.join(shown)}")
    return notes


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    params = (QUICK if args.quick else FULL).with_rounds(args.rounds)
    chosen = select(args.only)
    # The default rows are what a plain install gives: the standard loop everywhere,
    # even where the development environment has uvloop (the test extra brings it).
    # Only the [speed] rows' processes drop this (speed.environ).
    os.environ["VINCENT_LOOP"] = "asyncio"
    speed.ensure()
    started = time.perf_counter()
    with private_node(args.url) as url:
        info, outcomes = asyncio.run(run_all(url, params, chosen))
    seconds = time.perf_counter() - started
    rows: list[Row] = [row for scenario, result in outcomes for row in result.rows(scenario)]
    notes = [f"({r.number} {r.name}) failed: {r.error}" for _, r in outcomes if r.error]
    notes += reference_notes(outcomes)
    notes.append(
        f"medians of {params.rounds} rounds; ratio = vincent / aio-pika" if rows else "no results"
    )
    print()
    print(text_table(rows))
    for note in notes:
        print(f"- {note}")
    print(f"total {seconds:.0f} s")
    full = not args.quick and not args.only and args.rounds is None
    target = args.json or (HERE / "results.json" if full else REPO / ".bench" / "results.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": info,
        "params": vars(params),
        "seconds": round(seconds, 1),
        "scenarios": [result.to_json(scenario) for scenario, result in outcomes],
    }
    target.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {target.relative_to(REPO) if target.is_relative_to(REPO) else target}")
    if full and not args.no_readme:
        update_readme(HERE / "README.md", info, rows, notes)
    return 1 if any(result.error for _, result in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
