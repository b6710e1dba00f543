"""A network partition cuts one node off while casts and calls flow: nothing confirmed is lost.

A private 3-node cluster runs on simulated hosts (tools/rabbitnetns.py: a network
namespace and hostname each, one bridge), with ``pause_minority``. The client runs on
host ``client`` (first URL node 1), two ``tests.apps.sink`` workers (``vincent serve
--metrics-port``) on hosts ``w1`` and ``w2`` (first URL node 2 and node 3); every URL
lists every node, with ``heartbeat=4``. After 400 of 2,000 operations (half casts, half
calls, quorum queue led by the node about to be cut) one node's link is cut: the node
stays up but nothing reaches it, as behind a failed switch port. While it is cut off,
``vincent health`` and the workers' metrics are checked against what is true; after the
flow the link is healed and the cluster must be whole again. Counted like the fault
matrix: every confirmed cast is handled or dead-lettered (0 lost), every call returns
its own answer or raises a ``VincentError``, and afterwards the same processes (and a
new client) get 100 casts and 100 calls through.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rabbitnetns import Host, NetnsCluster, NetnsNode
from tests.cluster.support import (
    HostWorker,
    Tally,
    await_handled,
    dead_lettered,
    declare_from,
    operate,
    paced_flow,
    vincent_health,
)
from tests.poll import eventually_async
from vincent_core import Client

HEARTBEAT = 4  # seconds, in every URL: aiormq gives a silent connection up after (4+1)*3 s
OPERATIONS = 2000  # half casts (even n), half calls (odd n)
RATE = 150.0  # operations started per second
CUT_AFTER = 400  # operations started before the link is cut
WINDOW = 64  # operations in flight at most
CALL_TIMEOUT = 30.0
AFTER = 100  # casts and calls after the heal, every one must succeed
AFTER_HEAL = 90.0  # seconds for a worker still connecting to the cut node to get through
WHOLE_AFTER = 200.0  # seconds for the healed node to rejoin
KEY, EXCHANGE = "partition.sink", "partition"


def health(host: Host, url: str, timeout: float) -> Any:
    """``vincent health`` of the sink app on ``host`` (in a thread: the loop goes on)."""
    return asyncio.to_thread(
        vincent_health, host, url, "tests.apps.sink:app", timeout,
        VINCENT_EXCHANGE=EXCHANGE, SINK_KEY=KEY, SINK_QUEUE_TYPE="quorum",
    )  # fmt: skip


def stuck_worker(node: NetnsNode, worker: HostWorker) -> dict[str, Any]:
    """Where a worker's reconnect hangs: its TCP sockets to ``node`` (``ss`` on its
    host: SYN-SENT is the connect, ESTAB the handshake) and ``node``'s view of it."""
    sockets = worker.host.run(
        subprocess.run, ["ss", "-tn", "dst", node.host.address], capture_output=True, text=True
    ).stdout.split("\n")[1:]
    raw = node.rabbitmqctl("list_connections", "peer_host", "state", "--formatter", "json")
    seen = [row for row in json.loads(raw) if worker.host.address in json.dumps(row)]
    return {"sockets": [" ".join(line.split()[:5]) for line in sockets if line], "node": seen}


@pytest.mark.timeout(480)  # a cluster of its own: ~25 s to form, 60-90 s of flow, the heal
@pytest.mark.parametrize("isolated", ["the client's node", "a worker's node"])
async def test_partition_mid_flow(
    netns_cluster: NetnsCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    isolated: str,
) -> None:
    cluster = netns_cluster
    victim_index = 0 if isolated == "the client's node" else 1
    victim = cluster.nodes[victim_index]
    sink = tmp_path / "sink.txt"

    def url(starting_at: int) -> str:
        return cluster.url(starting_at=starting_at, heartbeat=HEARTBEAT)

    workers: list[HostWorker] = []
    with cluster.host("client").entered():
        # The quorum queue's leader starts on the node that will be cut off: the worst case.
        await declare_from(url(victim_index), EXCHANGE, KEY)
        for number in (1, 2):
            workers.append(
                HostWorker(
                    cluster.host(f"w{number}"),
                    url(number),
                    EXCHANGE,
                    tmp_path / f"w{number}.log",
                    SINK_FILE=str(sink),
                    SINK_KEY=KEY,
                    SINK_QUEUE_TYPE="quorum",
                    SINK_CONCURRENCY="16",
                )
            )
        pids = [worker.process.pid for worker in workers]
        try:
            await flow_cut_and_heal(cluster, victim_index, workers, url, sink, capsys, isolated)
            assert [worker.process.poll() for worker in workers] == [None, None]
            assert [worker.process.pid for worker in workers] == pids
        finally:
            for worker in workers:
                worker.stop()
    assert victim.running, "the cut node's server exited: pause_minority should only pause it"


async def flow_cut_and_heal(
    cluster: NetnsCluster,
    victim_index: int,
    workers: list[HostWorker],
    url: Any,
    sink: Path,
    capsys: pytest.CaptureFixture[str],
    isolated: str,
) -> None:
    victim = cluster.nodes[victim_index]
    client_host = cluster.host("client")
    loop = asyncio.get_running_loop()
    async with Client(url(0), exchange=EXCHANGE) as client:
        await client.call(KEY, {"n": -1}, timeout=CALL_TIMEOUT)  # both ends ready
        states: list[tuple[float, str]] = []
        client.transport.add_state_listener(lambda state: states.append((loop.time(), state)))
        tally = Tally()
        cutting, cut = asyncio.Event(), asyncio.Event()
        seen: dict[str, Any] = {}
        cut_at = 0.0
        poller: asyncio.Future[None] | None = None

        trail: list[list[tuple[float, str, int]]] = [[], []]  # per worker, as it changed
        seen["workers"] = trail
        polling = asyncio.Event()

        async def poll_workers() -> None:
            """Each worker's connection state and /healthz (on its host), until told."""
            while not polling.is_set():
                for number, worker in enumerate(workers):
                    state = await asyncio.to_thread(worker.connection_state)
                    status, _ = await asyncio.to_thread(worker.healthz)
                    if not trail[number] or trail[number][-1][1:] != (state, status):
                        trail[number].append((round(loop.time() - cut_at, 1), state, status))
                await asyncio.sleep(0.5)

        async def cut_and_observe() -> None:
            """Cut the link, then look at the fleet the way an operator would."""
            nonlocal cut_at, poller
            await cutting.wait()
            cut_at = loop.time()
            await asyncio.to_thread(victim.host.cut)
            cut.set()
            poller = asyncio.ensure_future(poll_workers())
            seen["paused after"] = await asyncio.to_thread(cluster.await_paused, victim, 90)
            # Asked of the majority, `vincent health` must say the fleet serves; with the
            # cut node first in its list it may only time out on that node (exit 3:
            # connecting to a black-holed address is not bounded below --timeout);
            # knowing only the cut node, it must say it cannot reach it (5) or time out.
            majority = next(i for i in (1, 2) if i != victim_index)
            checks = await asyncio.gather(
                health(client_host, url(majority), 20),
                health(client_host, url(victim_index), 20),
                health(client_host, victim.url, 10),
            )
            names = ("majority first", "cut node first", "cut node only")
            for name, check in zip(names, checks, strict=True):
                seen[f"health, {name}"] = check
            if victim_index == 1:  # the worker on the cut node must say it lost its broker

                async def worker_says_so() -> bool:
                    return any(step[1:] == ("reconnecting", 503) for step in trail[0])

                await eventually_async(worker_says_so, 60, what=lambda: trail, interval=0.2)

        async def one(n: int) -> None:
            await operate(client, KEY, n, tally, cut, CALL_TIMEOUT)

        observer = asyncio.ensure_future(cut_and_observe())
        flow_took = await paced_flow(OPERATIONS, RATE, WINDOW, one, mark=CUT_AFTER, marked=cutting)
        await observer

        healed_at = loop.time()
        await asyncio.to_thread(victim.host.heal)
        # Rejoining can hang in Erlang's global (one run: 2 minutes in "Waiting for Mnesia
        # tables" after "Faking nodedown/nodeup"), hence the long wait.
        try:
            whole_after = await asyncio.to_thread(cluster.await_whole, WHOLE_AFTER)
        except RuntimeError as exc:
            # RabbitMQ's, not vincent's: the paused node stays down ("requires the 'rabbit'
            # app to be running"), seen in about one run of three on 2 loaded cores. What
            # vincent owes during the cut was checked above, in the flow and the observer.
            polling.set()
            if poller is not None:
                await poller
            during = (
                f"during the cut: casts confirmed {len(tally.confirmed)}, failed "
                f"{dict(tally.cast_errors)}; calls ok {tally.calls_ok}, failed "
                f"{dict(tally.call_errors)}; client states after the cut "
                f"{[(round(t - cut_at, 1), state) for t, state in states if t > cut_at]}"
            )
            print(f"partition isolating {isolated}: {during}")
            assert tally.leaked_cancels == 0, during
            pytest.xfail(f"RabbitMQ did not rejoin the healed node: {exc} ({during})")

        async def workers_serve() -> bool:
            return all(steps[-1][1:] == ("connected", 200) for steps in trail)

        # A worker still connecting to the cut node should get through once it is
        # healed (asserted below, with the numbers).
        with contextlib.suppress(AssertionError):
            await eventually_async(workers_serve, AFTER_HEAL, what=lambda: trail, interval=0.2)
        if not await workers_serve():
            cut_off = workers[victim_index - 1]  # worker i is on node i + 1
            seen["stuck"] = await asyncio.to_thread(stuck_worker, victim, cut_off)
        polling.set()
        assert poller is not None
        await poller
        seen["health after the heal"] = await health(client_host, url(victim_index), 30)

        after = Tally()
        after_began = loop.time()
        for n in range(OPERATIONS, OPERATIONS + 2 * AFTER):
            await operate(client, KEY, n, after, cut, CALL_TIMEOUT)
        after_took = loop.time() - after_began
    fresh = Tally()
    async with Client(url(victim_index), exchange=EXCHANGE) as new_client:
        for n in range(OPERATIONS + 2 * AFTER, OPERATIONS + 4 * AFTER):
            await operate(new_client, KEY, n, fresh, cut, CALL_TIMEOUT)

        expected = tally.confirmed | after.confirmed | fresh.confirmed
        got = await await_handled(sink, expected, 90)
        dead = await dead_lettered(new_client)
    lost = sorted(expected - set(got) - set(dead))
    duplicates = sum(count - 1 for count in got.values() if count > 1)
    casts = OPERATIONS // 2
    reconnected = [t - cut_at for t, state in states if state == "connected" and t > cut_at]
    lost_at = [t - cut_at for t, state in states if state == "reconnecting" and t > cut_at]
    health_majority = seen["health, majority first"]
    health_first, health_cut = seen["health, cut node first"], seen["health, cut node only"]
    summary = (
        f"partition isolating {isolated} (node {victim_index + 1}, quorum leader; client on "
        f"node 1, workers on 2 and 3): paused after {seen['paused after']:.1f}s; "
        f"flow of {OPERATIONS} ops took {flow_took:.1f}s; "
        f"casts confirmed {len(tally.confirmed)}/{casts}, failed {dict(tally.cast_errors)}; "
        f"calls ok {tally.calls_ok}/{casts}, failed {dict(tally.call_errors)}; "
        f"handled {len(set(got) & tally.confirmed)}, dead-lettered {sum(dead.values())}, "
        f"lost {len(lost)}, duplicates {duplicates}; "
        f"failures from {max(0.0, tally.first_failure - cut_at):.1f}s "
        f"to {max(0.0, tally.last_failure - cut_at):.1f}s after the cut; "
        f"client connection lost at {lost_at}, reconnected at {reconnected} s after the cut; "
        f"health (majority first) exit {health_majority[0]} in {health_majority[1]:.1f}s "
        f"{health_majority[2]}; health (cut node first) exit {health_first[0]} in "
        f"{health_first[1]:.1f}s; health (cut node only) exit {health_cut[0]} in "
        f"{health_cut[1]:.1f}s; workers (s after cut, state, /healthz) {seen['workers']}; "
        f"whole {whole_after:.1f}s after the heal at {healed_at - cut_at:.1f}s; "
        f"after: {2 * AFTER} ops in {after_took:.1f}s "
        f"(failed {dict(after.cast_errors + after.call_errors)}), "
        f"new client {len(fresh.confirmed) + fresh.calls_ok}/{2 * AFTER} ok"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    assert lost == [], summary
    assert (
        len(tally.confirmed)
        + tally.calls_ok
        + sum(tally.cast_errors.values())
        + sum(tally.call_errors.values())
        == OPERATIONS
    ), summary
    assert tally.finished_after_stop > 0, "the flow ended before the cut"
    # The truth during the partition: the fleet serves through the majority; no check
    # calls it unhealthy (6) or unreachable (5) while the majority is listed.
    assert health_majority[0] == 0, summary
    assert all(queue["consumers"] >= 1 for queue in health_majority[2]["queues"]), summary
    assert health_first[0] in (0, 3), summary
    assert health_cut[0] in (3, 5), summary
    # Each worker's metrics say what happened to it: the one on the cut node lost its
    # broker (503, reconnecting), the others never did; all serve after the heal.
    trails = [[step[1:] for step in steps] for steps in trail]
    cut_worker = victim_index - 1  # worker 1 is on node 2, worker 2 on node 3
    stuck = False
    for number, steps in enumerate(trails):
        if number == cut_worker:
            assert ("reconnecting", 503) in steps, summary
            stuck = steps[-1] == ("reconnecting", 503)
            assert stuck or steps[-1] == ("connected", 200), summary
        else:
            assert set(steps) == {("connected", 200)}, summary
    assert seen["health after the heal"][0] == 0, summary
    # Healed: the same client and a new one get everything through.
    assert len(after.confirmed) == AFTER and after.calls_ok == AFTER, (summary, after.samples)
    assert len(fresh.confirmed) == AFTER and fresh.calls_ok == AFTER, (summary, fresh.samples)
    # A partition is a blip for the majority, not an outage.
    assert len(tally.confirmed) + tally.calls_ok >= OPERATIONS * 0.8, summary
    # The connection is vincent's own: what waits on a connection it gives up fails
    # with ConnectionLost, never a bare CancelledError.
    leaked = tally.leaked_cancels + after.leaked_cancels + fresh.leaked_cancels
    assert leaked == 0, f"{leaked} cast/call raised a bare CancelledError: {summary}"
    # Every connect and handshake has a deadline (connect_timeout): a worker cannot stay
    # stuck reconnecting to a healed node.
    assert not stuck, (
        f"the cut-off worker was still reconnecting {AFTER_HEAL:g}s after the heal "
        f"(its sockets and node {victim_index + 1}'s view: {seen['stuck']}): {summary}"
    )
