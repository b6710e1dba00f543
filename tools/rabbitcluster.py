"""A private RabbitMQ cluster on loopback for the failover tests (``make test-cluster``).

Three (by default) :class:`~rabbitnode.RabbitNode` s with their own names, ports and data
directories, one Erlang cookie and one epmd of their own, joined with ``rabbitmqctl
join_cluster``. Never the system broker or the system epmd. Used by tests/cluster/
(``make test-cluster``); from Python::

    with RabbitCluster(Path("/tmp/cluster")) as cluster:
        print(cluster.url())
"""

from __future__ import annotations

import contextlib
import json
import secrets
import string
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rabbitnode import WATCHDOG, RabbitNode, _epmd, _free_port, _port_open

if TYPE_CHECKING:
    from typing import Self

__all__ = ["RabbitCluster"]


class RabbitCluster:
    """``size`` RabbitMQ nodes on 127.0.0.1 forming one cluster.

    ::

        with RabbitCluster(tmp_path) as cluster:
            url = cluster.url(starting_at=1)     # node 1 first, the others to fail over to
            leader = cluster.quorum_leader("orders")
            leader.stop()
    """

    def __init__(self, base_dir: Path, *, size: int = 3) -> None:
        self.base_dir = Path(base_dir).resolve()
        token = secrets.token_hex(3)
        self.epmd_port = _free_port(set())
        cookie = "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))
        self.nodes: list[RabbitNode] = [
            self._new_node(number, f"vincent-cluster-{token}-{number}", cookie)
            for number in range(1, size + 1)
        ]
        self._watchdog: subprocess.Popen[bytes] | None = None

    def _new_node(self, number: int, name: str, cookie: str) -> RabbitNode:
        """Member ``number`` (from 1); tools/rabbitnetns.py puts each in a namespace."""
        return RabbitNode(
            self.base_dir / f"node{number}", name=name, epmd_port=self.epmd_port, cookie=cookie
        )

    # -- addresses -------------------------------------------------------------------
    def url(self, starting_at: int = 0) -> str:
        """Every node's URL, comma-separated, node ``starting_at`` first."""
        order = self.nodes[starting_at:] + self.nodes[:starting_at]
        return ",".join(node.url for node in order)

    def node_named(self, name: str) -> RabbitNode:
        """The node called ``name`` (``vincent-cluster-...@localhost``)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def running_nodes(self) -> list[RabbitNode]:
        """The nodes whose server process is up."""
        return [node for node in self.nodes if node.running]

    # -- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        """Start every node (in parallel), join them to the first, wait until clustered."""
        deadline = time.monotonic() + timeout
        self._check_ports()
        self._start_epmd(deadline)
        errors: list[BaseException] = []

        def boot(node: RabbitNode) -> None:
            try:
                node.start(max(10.0, deadline - time.monotonic()))
            except BaseException as exc:  # reported on the main thread
                errors.append(exc)

        threads = [threading.Thread(target=boot, args=(node,)) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise errors[0]
        try:
            first = self.nodes[0]
            for node in self.nodes[1:]:
                node.rabbitmqctl("stop_app")
                node.rabbitmqctl("join_cluster", first.name)
                node.start_app(max(10.0, deadline - time.monotonic()))
            self._await_members(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every node that still runs, then the cluster's epmd."""
        for node in self.nodes:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                node.stop(timeout=30.0)
        epmd = _epmd()
        if epmd is not None and _port_open(self.epmd_port):
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                capture_output=True,
                check=False,
                timeout=10,
            )
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            if self._watchdog.stdin is not None:
                self._watchdog.stdin.close()
            self._watchdog = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- inspection ------------------------------------------------------------------
    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """``rabbitmqctl`` against the first node still running."""
        running = self.running_nodes()
        if not running:
            raise RuntimeError("no node of the cluster is running")
        return running[0].rabbitmqctl(*args, timeout=timeout)

    def quorum_leader(self, queue: str, vhost: str = "/") -> RabbitNode:
        """The node leading the quorum queue ``queue`` (``list_queues name leader``)."""
        raw = self.rabbitmqctl(
            "list_queues", "-p", vhost, "name", "leader", "--formatter", "json", "--quiet"
        )
        rows: list[dict[str, Any]] = json.loads(raw)
        for row in rows:
            if row.get("name") == queue and row.get("leader"):
                return self.node_named(str(row["leader"]))
        raise LookupError(f"no quorum queue {queue!r} with a leader in {rows!r}")

    # -- internals -------------------------------------------------------------------
    def _check_ports(self) -> None:
        # Each node picked its free ports alone; make sure no two picked the same one.
        seen: set[int] = {self.epmd_port}
        for node in self.nodes:
            for port in (node.amqp_port, node.dist_port):
                while port in seen:
                    port = _free_port(set(seen))
                    if node.amqp_port in seen:
                        node.amqp_port = port
                    else:
                        node.dist_port = port
                seen.add(port)

    def _start_epmd(self, deadline: float) -> None:
        epmd = _epmd()
        if epmd is None:
            return  # erl starts one itself on ERL_EPMD_PORT
        env = self.nodes[0].env()
        subprocess.run(
            [epmd, "-daemon", "-relaxed_command_check", "-port", str(self.epmd_port)],
            env=env,
            check=False,
        )
        while not _port_open(self.epmd_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        # If this process dies without stop(), the watchdog kills the shared epmd (each
        # node's own watchdog kills its server). pid 0 is never a server: epmd only.
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, "0", epmd, str(self.epmd_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _await_members(self, deadline: float) -> None:
        wanted = {node.name for node in self.nodes}
        while True:
            status = json.loads(self.nodes[0].rabbitmqctl("cluster_status", "--formatter", "json"))
            running = set(status.get("running_nodes", []))
            if running >= wanted:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not formed in time: running {sorted(running)}")
            time.sleep(0.2)
