"""Profile one side of one scenario, and summarise py-spy's raw output.

::

    python -m bench.profile calls vincent --url amqp://... --spy /tmp/calls.txt
    python -m bench.profile --summary /tmp/calls.txt --top 25

``SCENARIO`` is a scenario name (``cast``, ``drain``, ``latency``, ``calls``, ``chain``);
``SIDE`` one of its sides (``vincent``, ``vincent def``, ``aio-pika``...). Counts are
the full run's times ``--scale``, so the profile has enough samples. ``--spy FILE``
attaches py-spy (``--subprocesses``: worker processes too) for the measured part only,
after the untimed preparation; ``--spy-option`` passes more (``--gil``, ``--idle``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

from bench.broker import Admin
from bench.params import FULL, Params
from bench.runner import Env
from bench.scenarios import ALL

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


def scaled(scale: float) -> Params:
    counts = {
        name: int(getattr(FULL, name) * scale)
        for name in ("cast_count", "drain_count", "latency_count", "call_count", "chain_count")
    }
    return dataclasses.replace(FULL, rounds=1, **counts)


async def spy(output: Path, options: list[str]) -> asyncio.subprocess.Process:
    """Start py-spy on this process and its children; give it time to attach."""
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw"]
    command += ["--rate", "400", "--subprocesses", *options, "-o", str(output)]
    process = await asyncio.create_subprocess_exec(
        *command, "--pid", str(os.getpid()), stderr=asyncio.subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)
    return process


async def profile(
    name: str, side: str, url: str, scale: float, output: Path | None, options: list[str]
) -> None:
    scenario_class = next(s for s in ALL if s.name.split()[0] == name)
    env = Env(url, scaled(scale), Admin(url, ""))
    env.admin.exchange = env.exchange
    await env.admin.open()
    scenario = scenario_class(env)
    try:
        await scenario.setup()
        try:
            await scenario.prepare(side)
            spying = await spy(output, options) if output else None
            result = await scenario.run(side)
            if spying is not None:
                spying.send_signal(signal.SIGINT)
                await spying.wait()
            print(f"{name} {side}: {result}")
        finally:
            await scenario.teardown()
    finally:
        await env.admin.delete(*env.queues)
        await env.admin.close()


def short(frame: str) -> str:
    """``function (file:line)`` as ``package/module.py:function``."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/src/", "/bench/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{match['function']}"


def _process_label(frame: str) -> str:
    """``process 123:"python -m bench.worker vincent-echo URL ..."`` as
    ``123 bench.worker vincent-echo``."""
    pid, _, command = frame.removeprefix("process ").partition(":")
    words = command.strip('"').split()
    if "-m" in words:
        words = words[words.index("-m") + 1 :]
    return f"{pid} {' '.join(words[:3])}"


def summary(raw: Path, top: int, drop: tuple[str, ...] = ()) -> str:
    """Self and inclusive sample counts per function, per process; stacks containing any
    of ``drop`` (the untimed set-up, say ``Admin.fill``) are left out."""
    own: dict[str, Counter[str]] = {}
    inclusive: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if any(pattern in stack for pattern in drop):
            continue
        count = int(count_text)
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        process = _process_label(processes[-1]) if processes else "main"
        calls = [short(f) for f in frames if not f.startswith(("process", "thread"))]
        # Idle time (the loop waiting in select/epoll) is not work: leave it out.
        if not calls or calls[-1].endswith(("select", "poll", "_wait", ":wait", "waitpid")):
            continue
        totals[process] += count
        own.setdefault(process, Counter())[calls[-1]] += count
        for function in set(calls):
            inclusive.setdefault(process, Counter())[function] += count
    lines = []
    for process, total in totals.most_common():
        lines.append(f"== {process}: {total} busy samples")
        lines.append("  self%  incl%  function")
        for function, count in own[process].most_common(top):
            share = 100 * inclusive[process][function] / total
            lines.append(f"  {100 * count / total:5.1f}  {share:5.1f}  {function}")
        lines.append("  -- inclusive --")
        for function, count in inclusive[process].most_common(top):
            lines.append(f"         {100 * count / total:5.1f}  {function}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("scenario", nargs="?")
    parser.add_argument("side", nargs="?", default="vincent")
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--spy", type=Path, help="record the measured part with py-spy here")
    parser.add_argument("--spy-option", action="append", default=[], help="e.g. --gil")
    parser.add_argument("--summary", type=Path, help="summarise a py-spy --format raw file")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--drop", action="append", default=[], help="leave out stacks with this")
    args = parser.parse_args(argv)
    if args.summary:
        print(summary(args.summary, args.top, tuple(args.drop)))
    elif args.scenario:
        asyncio.run(
            profile(args.scenario, args.side, args.url, args.scale, args.spy, args.spy_option)
        )
    else:
        parser.error("name a scenario, or --summary FILE")


if __name__ == "__main__":
    main()
