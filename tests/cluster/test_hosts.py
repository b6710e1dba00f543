"""Workers on several simulated hosts: ``route_to="host"`` and ``route_to="one"`` across them.

Four ``vincent serve tests.cluster.hosts_app:app`` processes on three hosts of the
namespace network (two on ``w1``, one each on ``w2`` and ``w3``, each with a different
first node of the 3-node cluster). A client on host ``client`` casts to a per-host key
and to a shared key. Every host must get every per-host message exactly once, shared by
the processes of that host; every shared message must be handled exactly once, by
processes on every host. The broker must show one queue per host with that host's
processes as consumers, and ``vincent health`` run on a host checks that host's queue.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from rabbitnetns import NetnsCluster
from tests.cluster.support import HostWorker, vincent_health
from tests.poll import eventually_async
from vincent_core import Client

EXCHANGE = "hosts"
APP = "tests.cluster.hosts_app:app"
FLUSHES, JOBS = 40, 200
#: (host, the node first in its URL list) of each worker process
PLACEMENT = [("w1", 0), ("w1", 1), ("w2", 1), ("w3", 2)]


@pytest.mark.timeout(300)
async def test_route_to_host_and_one_across_hosts(
    netns_cluster: NetnsCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = netns_cluster
    sink = tmp_path / "hosts.txt"
    workers: list[HostWorker] = []
    try:
        for number, (hostname, node) in enumerate(PLACEMENT):
            workers.append(
                HostWorker(
                    cluster.host(hostname),
                    cluster.url(starting_at=node),
                    EXCHANGE,
                    tmp_path / f"worker{number}.log",
                    app=APP,
                    metrics_port=9100 + number,
                    HOSTS_SINK=str(sink),
                )
            )

        def lines() -> list[tuple[str, int, str, int]]:
            if not sink.exists():
                return []
            rows = [line.split() for line in sink.read_text().splitlines() if line]
            return [(kind, int(n), host, int(pid)) for kind, n, host, pid in rows]

        async def all_in() -> bool:
            kinds = Counter(kind for kind, *_ in lines())
            return kinds["flush"] >= 3 * FLUSHES and kinds["job"] >= JOBS

        with cluster.host("client").entered():
            async with Client(cluster.url(), exchange=EXCHANGE) as client:
                for n in range(FLUSHES):
                    await client.cast("fleet.flush", {"n": n}, require_route=True)
                for n in range(JOBS):
                    await client.cast("fleet.job", {"n": n}, require_route=True)
                await eventually_async(
                    all_in, 60, what=lambda: Counter(k for k, *_ in lines()), interval=0.2
                )

        seen = lines()
        pid_host = {worker.process.pid: worker.host.hostname for worker in workers}
        flushes: dict[str, list[int]] = defaultdict(list)
        flush_pids: dict[str, set[int]] = defaultdict(set)
        jobs: Counter[int] = Counter()
        job_pids: Counter[int] = Counter()
        for kind, n, host, pid in seen:
            assert pid_host[pid] == host, "a process reported another host's name"
            if kind == "flush":
                flushes[host].append(n)
                flush_pids[host].add(pid)
            else:
                jobs[n] += 1
                job_pids[pid] += 1
        rows = json.loads(
            cluster.rabbitmqctl("list_queues", "name", "consumers", "--formatter", "json")
        )
        consumers = {row["name"]: row["consumers"] for row in rows if "fleet." in row["name"]}
        checks = {
            hostname: vincent_health(
                cluster.host(hostname), cluster.url(), APP, 20, VINCENT_EXCHANGE=EXCHANGE
            )
            for hostname in ("w1", "w2", "w3")
        }
        w1_split = Counter(pid for kind, _, host, pid in seen if (kind, host) == ("flush", "w1"))
        with capsys.disabled():
            print(
                f"\nhosts: per-host copies { ({h: len(v) for h, v in flushes.items()}) }, "
                f"split by w1's processes {sorted(w1_split.values())}; shared jobs by "
                f"process {sorted(job_pids.values())}; queue consumers {consumers}"
            )
        # route_to="host": one queue per host, every host a copy of everything, once
        for hostname in ("w1", "w2", "w3"):
            assert sorted(flushes[hostname]) == list(range(FLUSHES)), hostname
        assert flush_pids["w1"] == {workers[0].process.pid, workers[1].process.pid}
        # route_to="one": each message handled once, round-robin over every process
        assert sorted(jobs) == list(range(JOBS)) and set(jobs.values()) == {1}
        assert set(job_pids) == set(pid_host), job_pids
        assert min(job_pids.values()) >= JOBS // len(workers) // 3, job_pids
        assert consumers == {
            "fleet.flush.w1": 2,
            "fleet.flush.w2": 1,
            "fleet.flush.w3": 1,
            "fleet.job": 4,
        }
        # `vincent health` on each host looks at that host's own queue
        for hostname, (code, _, body) in checks.items():
            assert code == 0, (hostname, body)
            reported = {queue["name"]: queue["consumers"] for queue in body["queues"]}
            own = f"fleet.flush.{hostname}"
            assert reported == {own: consumers[own], "fleet.job": 4}, hostname
    finally:
        for worker in workers:
            worker.stop()
