"""What a fleet of worker processes costs one RabbitMQ node: the measured points of the
scaling model in docs/deploy.md.

Starts a private node (tools/rabbitnode.py), then, one step at a time, measuring the
node's memory (``rabbitmq-diagnostics memory_breakdown``, ``erlang:memory(total)``) and
the publish latency of a vincent client (a confirmed cast, and a call to a vincent
worker) at each step:

1. the empty node;
2. ``--workers`` worker-shaped processes' worth of connections, each as vincent opens
   them: one publishing connection (one channel, confirms on) and one consuming
   connection (one channel per listener, ``basic.consume`` with prefetch 32 on the
   listener's shared queue);
3. ``--classic`` more classic queues, then ``--quorum`` more quorum queues, to price a
   queue of each type.

Load is bounded: at most a few thousand connections, every wait has a deadline, and
the whole run takes about a minute. Not part of ``make bench``::

    .venv/bin/python bench/fleet_scale.py                    # 250 workers: 500 connections
    .venv/bin/python bench/fleet_scale.py --workers 100 --listeners 4 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiormq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from rabbitnode import RabbitNode  # noqa: E402
from vincent_core import Client, Vincent  # noqa: E402

EXCHANGE = "fleet"
PREFETCH = 32  # vincent's default concurrency, so its prefetch
MAX_CONNECTIONS = 4000


class FleetNode(RabbitNode):
    """A private node; ``tcp_buffer`` sets ``tcp_listen_options.sndbuf``/``recbuf``."""

    def __init__(self, base_dir: Path, tcp_buffer: int) -> None:
        super().__init__(base_dir)
        self.tcp_buffer = tcp_buffer

    def _prepare(self) -> None:
        super()._prepare()
        if self.tcp_buffer:
            # RabbitMQ sizes each connection's user-level buffer to the larger of the
            # socket's send and receive buffers; unset, Linux autotuning decides (on
            # loopback it grows the send buffer to ~4 MB per connection).
            with (self.base_dir / "rabbitmq.conf").open("a") as conf:
                conf.write(f"tcp_listen_options.sndbuf = {self.tcp_buffer}\n")
                conf.write(f"tcp_listen_options.recbuf = {self.tcp_buffer}\n")


def socket_buffers(node: RabbitNode) -> str:
    """The user-level buffer of the node's TCP sockets: sizes and how many have each."""
    return node.rabbitmqctl("eval", _BUFFERS, timeout=60).strip()


_BUFFERS = (
    "lists:foldl(fun(B, M) -> maps:update_with(B, fun(C) -> C + 1 end, 1, M) end, #{}, "
    '[B || P <- erlang:ports(), erlang:port_info(P, name) == {name, "tcp_inet"}, '
    "{ok, [{buffer, B}]} <- [inet:getopts(P, [buffer])]])."
)


def broker_memory(node: RabbitNode) -> dict[str, int]:
    """The node's memory by category, in bytes, and ``total`` (``erlang:memory``)."""
    raw = node.rabbitmqctl("eval", "erlang:memory(total).", timeout=60)
    breakdown = node.rabbitmqctl("eval", _BREAKDOWN, timeout=60)
    memory = {key: int(value) for key, value in re.findall(r"\{(\w+),\s*(\d+)\}", breakdown)}
    memory["total"] = int(re.sub(r"\D", "", raw))
    return memory


# rabbit_vm:memory() is what `rabbitmq-diagnostics memory_breakdown` prints.
_BREAKDOWN = "[{K, V} || {K, V} <- rabbit_vm:memory(), is_integer(V)]."


async def latencies(client: Client, count: int) -> dict[str, float]:
    """Median and 99th percentile of a confirmed cast and of a call, in milliseconds."""
    result: dict[str, float] = {}
    for kind in ("cast", "call"):
        samples = []
        for n in range(count):
            began = time.perf_counter()
            if kind == "cast":
                await client.cast("fleet.sink", {"n": n})
            else:
                await client.call("fleet.echo", {"n": n}, timeout=10)
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        result[f"{kind}_p50_ms"] = round(statistics.median(samples), 2)
        result[f"{kind}_p99_ms"] = round(samples[int(len(samples) * 0.99) - 1], 2)
    return result


async def open_worker(url: str, queues: list[str]) -> list[Any]:
    """One worker process's connections: a publisher and a consumer."""
    publisher = await asyncio.wait_for(aiormq.connect(url), 30)
    channel = await publisher.channel(publisher_confirms=True)
    del channel
    consumer = await asyncio.wait_for(aiormq.connect(url), 30)
    for queue in queues:
        listener = await consumer.channel()
        await listener.basic_qos(prefetch_count=PREFETCH)
        await listener.basic_consume(queue, _never_called)
    return [publisher, consumer]


async def _never_called(message: Any) -> None:
    raise AssertionError("the fleet's queues stay empty")


async def measure(args: argparse.Namespace, node: RabbitNode) -> dict[str, Any]:
    url = node.url
    points: dict[str, Any] = {"rabbitmq": node.rabbitmqctl("version").strip()}
    app = Vincent(url, exchange=EXCHANGE)

    @app.listen("fleet.echo")
    async def echo(msg: Any) -> Any:
        return msg.body

    app.listen("fleet.sink")(lambda msg: None)
    async with app.running(), Client(url, exchange=EXCHANGE) as client:
        admin = await aiormq.connect(url)
        channel = await admin.channel()
        queues = [f"fleet.key{k}" for k in range(args.listeners)]
        for queue in queues:
            await channel.queue_declare(queue, durable=True)
        await latencies(client, 50)  # warm up
        points["empty"] = {"memory": broker_memory(node), **await latencies(client, args.samples)}

        began = time.monotonic()
        connections: list[Any] = []
        for start in range(0, args.workers, 25):  # 25 at a time: a deploy, not a storm
            batch = range(start, min(start + 25, args.workers))
            opened = await asyncio.gather(*(open_worker(url, queues) for _ in batch))
            connections += [c for pair in opened for c in pair]
        opened_in = time.monotonic() - began
        await asyncio.sleep(2)  # let the node's per-connection stats settle
        points["fleet"] = {
            "workers": args.workers,
            "connections": len(connections),
            "channels": args.workers * (1 + args.listeners),
            "consumers": args.workers * args.listeners,
            "opened_in_s": round(opened_in, 1),
            "memory": broker_memory(node),
            "socket_buffers": socket_buffers(node),
            **await latencies(client, args.samples),
        }

        for kind, count in (("classic", args.classic), ("quorum", args.quorum)):
            before = broker_memory(node)
            for number in range(count):
                arguments: dict[str, Any] = {"x-queue-type": kind}
                await channel.queue_declare(
                    f"fleet.{kind}.{number}", durable=True, arguments=arguments
                )
            await asyncio.sleep(2)
            after = broker_memory(node)
            points[f"{kind}_queues"] = {
                "count": count,
                "memory_before": before,
                "memory_after": after,
            }
        for connection in connections:
            await connection.close()
        await admin.close()
    return points


def per_unit(points: dict[str, Any]) -> dict[str, float]:
    """Bytes per connection, per channel and per queue of each type."""
    empty, fleet = points["empty"]["memory"], points["fleet"]["memory"]
    connection_keys = ("connection_readers", "connection_writers", "connection_channels",
                       "connection_other")  # fmt: skip
    per: dict[str, float] = {}
    connections = fleet["total"] - empty["total"]
    per["bytes_per_worker_process"] = connections / points["fleet"]["workers"]
    per["bytes_per_connection_total"] = connections / points["fleet"]["connections"]
    for key in connection_keys:
        if key in fleet:
            per[f"{key}_per_connection"] = (fleet[key] - empty.get(key, 0)) / points["fleet"][
                "connections"
            ]
    if "connection_channels" in fleet:
        per["connection_channels_per_channel"] = (
            fleet["connection_channels"] - empty.get("connection_channels", 0)
        ) / points["fleet"]["channels"]
    for kind in ("classic", "quorum"):
        step = points.get(f"{kind}_queues")
        if step and step["count"]:
            grown = step["memory_after"]["total"] - step["memory_before"]["total"]
            per[f"bytes_per_{kind}_queue"] = grown / step["count"]
    return {key: round(value) for key, value in per.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=250, help="worker processes (x2 conns)")
    parser.add_argument("--listeners", type=int, default=2, help="listeners per worker")
    parser.add_argument("--classic", type=int, default=500, help="classic queues to price")
    parser.add_argument("--quorum", type=int, default=100, help="quorum queues to price")
    parser.add_argument("--samples", type=int, default=300, help="latency samples per step")
    buffer_help = "tcp_listen_options.sndbuf/recbuf in bytes (0: the OS decides)"
    parser.add_argument("--tcp-buffer", type=int, default=0, help=buffer_help)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 0 < args.workers * 2 <= MAX_CONNECTIONS:
        parser.error(f"--workers: 1 to {MAX_CONNECTIONS // 2}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vincent-fleet-") as tmp:
        node = FleetNode(Path(tmp), args.tcp_buffer)
        node.start()
        try:
            points = asyncio.run(measure(args, node))
        finally:
            node.stop()
    points["tcp_buffer"] = args.tcp_buffer
    points["per_unit"] = per_unit(points)
    points["run_s"] = round(time.monotonic() - began, 1)
    if args.json:
        args.json.write_text(json.dumps(points, indent=2) + "\n")
    summary = {key: points[key] for key in ("rabbitmq", "tcp_buffer", "per_unit", "run_s")}
    for step in ("empty", "fleet"):
        summary[step] = {k: v for k, v in points[step].items() if k != "memory"}
        summary[step]["memory_total_mb"] = round(points[step]["memory"]["total"] / 2**20, 1)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
