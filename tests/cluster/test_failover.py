"""A quorum queue's leader node stops while casts and calls flow: nothing confirmed is lost.

Two ``tests.apps.sink`` worker processes and this test's client each connect to a
different node of a private 3-node cluster (with the other nodes as failover URLs). The
node leading the quorum queue is stopped while 2,000 casts and calls flow at a steady
pace. Then: every confirmed cast was handled (duplicates are allowed and counted: at
least once), every call either returned its own answer or raised a ``VincentError``, and
the same worker processes (no restart) serve new casts and calls.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rabbitcluster import RabbitCluster
from tests.apps.sink_process import SinkWorker
from tests.cluster.support import Tally, await_handled, declare_from, operate, paced_flow
from vincent_core import Client

OPERATIONS = 2000  # half casts (even n), half calls (odd n)
RATE = 150.0  # operations started per second: the flow spans the node's stop
STOP_AFTER = 400  # operations started before the leader is stopped
WINDOW = 64  # operations in flight at most
CALL_TIMEOUT = 30.0
AFTER = 100  # casts and calls after the failover, every one must succeed


@pytest.mark.timeout(300)  # a cluster of its own each time: ~17 s to form, ~16 s of traffic
@pytest.mark.parametrize(
    ("how", "leader_beside"),
    [("stop", "a worker"), ("kill", "a worker"), ("kill", "the client")],
)
async def test_quorum_leader_node_goes_down_mid_flow(
    cluster: RabbitCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
    leader_beside: str,
) -> None:
    """``stop``: ``rabbitmqctl stop`` (a maintenance shutdown); ``kill``: SIGKILL (a
    crash). The leader is on the node of a worker, or of the client."""
    key, exchange, sink = "cluster.sink", "cluster", tmp_path / "sink.txt"
    if leader_beside == "the client":
        await declare_from(cluster.url(starting_at=0), exchange, key)
    workers = [
        SinkWorker(
            cluster.url(starting_at=i),
            exchange,
            key,
            sink,
            tmp_path / f"worker{i}.log",
            SINK_QUEUE_TYPE="quorum",
            SINK_CONCURRENCY="16",
        )
        for i in (1, 2)
    ]
    pids = [worker.process.pid for worker in workers]
    try:
        async with Client(cluster.url(starting_at=0), exchange=exchange) as client:
            leader = await asyncio.to_thread(cluster.quorum_leader, key)
            tally = Tally()
            stopping = asyncio.Event()
            stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            stop_took = 0.0
            down_at = 0.0

            async def stop_leader() -> None:
                nonlocal stop_took, down_at
                await stopping.wait()
                began = down_at = loop.time()
                await asyncio.to_thread(leader.stop, graceful=how == "stop")
                stop_took = loop.time() - began
                stopped.set()

            async def one(n: int) -> None:
                await operate(client, key, n, tally, stopped, CALL_TIMEOUT)

            stopper = asyncio.ensure_future(stop_leader())
            flow_took = await paced_flow(
                OPERATIONS, RATE, WINDOW, one, mark=STOP_AFTER, marked=stopping
            )
            await stopper

            # Recovered without restarts: the same two workers and this client serve a
            # fresh batch, every cast confirmed and every call answered (both workers
            # taking part is checked below, from the sink).
            recovered_at = loop.time()
            after_tally = Tally()
            for n in range(OPERATIONS, OPERATIONS + 2 * AFTER):
                await operate(client, key, n, after_tally, stopped, CALL_TIMEOUT)
            recovery_took = loop.time() - recovered_at
            new_leader = await asyncio.to_thread(cluster.quorum_leader, key)
        # A client connecting after the failover (a restarted web process, say).
        fresh_tally = Tally()
        async with Client(cluster.url(starting_at=1), exchange=exchange) as fresh:
            for n in range(OPERATIONS + 2 * AFTER, OPERATIONS + 4 * AFTER):
                await operate(fresh, key, n, fresh_tally, stopped, CALL_TIMEOUT)

        expected = tally.confirmed | after_tally.confirmed | fresh_tally.confirmed
        seen = await await_handled(sink, expected, 90)
        lost = sorted(expected - set(seen))
        duplicates = sum(count - 1 for count in seen.values() if count > 1)
        unconfirmed_handled = sum(
            1 for n in seen if n % 2 == 0 and n < OPERATIONS and n not in tally.confirmed
        )
        casts = OPERATIONS // 2
        summary = (
            f"cluster failover ({how}, leader beside {leader_beside}): "
            f"leader node {leader.name.split('@')[0][-1]} (client on 1, workers on 2 and 3) "
            f"down in {stop_took:.1f}s; "
            f"flow of {OPERATIONS} ops took {flow_took:.1f}s; "
            f"casts confirmed {len(tally.confirmed)}/{casts}, lost {len(lost)}, "
            f"failed {dict(tally.cast_errors)}, unconfirmed-but-handled {unconfirmed_handled}; "
            f"calls ok {tally.calls_ok}/{casts}, failed {dict(tally.call_errors)}; "
            f"duplicates {duplicates}; {tally.finished_after_stop} ops finished after the stop; "
            f"failures until {max(0.0, tally.last_failure - down_at):.1f}s after the stop; "
            f"post-failover {2 * AFTER} ops in {recovery_took:.1f}s "
            f"(failed: {dict(after_tally.cast_errors + after_tally.call_errors)}), "
            f"fresh client {len(fresh_tally.confirmed) + fresh_tally.calls_ok}/{2 * AFTER} ok; "
            f"new leader {new_leader.name.split('@')[0][-1]}"
        )
        with capsys.disabled():
            print(f"\n{summary}")
        assert lost == [], summary
        assert tally.leaked_cancels == after_tally.leaked_cancels == 0, summary
        assert new_leader is not leader
        assert len(fresh_tally.confirmed) == AFTER, (summary, fresh_tally.samples)
        assert fresh_tally.calls_ok == AFTER, (summary, fresh_tally.samples)
        # Whichever node went down, the same client recovers by itself. (RabbitMQ 3.10
        # can leave the client's reopened channel nacking every publish if its first one
        # fell in the leader election: the transport replaces such a channel.)
        assert len(after_tally.confirmed) == AFTER, (summary, after_tally.samples)
        assert after_tally.calls_ok == AFTER, (summary, after_tally.samples)
        assert tally.finished_after_stop > 0, "the flow ended before the node stopped"
        assert [worker.process.poll() for worker in workers] == [None, None], summary
        assert [worker.process.pid for worker in workers] == pids
        post_failover_pids = {
            int(pid)
            for n, pid in (line.split() for line in sink.read_text().splitlines() if line)
            if int(n) >= OPERATIONS
        }
        assert post_failover_pids == set(pids), "a worker did not come back after the failover"
        # Most traffic gets through: a failover is a blip, not an outage.
        assert len(tally.confirmed) + tally.calls_ok >= OPERATIONS * 0.8, summary
    finally:
        for worker in workers:
            worker.stop()
