#!/usr/bin/env python3
"""Simulated hosts in network namespaces, and a RabbitMQ cluster spread over them.

Every host is a network namespace (``ip netns``) with a hostname of its own (a UTS
namespace), linked by a veth pair to one bridge that lives in a hub namespace. The
subnet (198.18.0.0/24, the range reserved for network tests) exists only inside these
namespaces: nothing is added to the machine's own network, and no traffic leaves them.
Cutting a host's link (``Host.cut()``) detaches its port from the bridge: the host stays
up and its sockets stay open, but nothing gets through, as behind a failed switch port.

:class:`NetnsCluster` is a :class:`~rabbitcluster.RabbitCluster` whose nodes
(:class:`NetnsNode`) each run on such a host, with ``cluster_partition_handling =
pause_minority`` and a short ``net_ticktime``, so a cut node pauses itself and rejoins
after ``heal()``. Needs root and ``ip`` (iproute2). From Python::

    with NetnsCluster(tmp_path, hosts=("client", "worker1")) as cluster:
        with cluster.host("client").entered():      # this thread is on host "client"
            ...                                     # connect to cluster.url()
        cluster.nodes[0].host.cut()
        cluster.nodes[0].host.heal()

Namespaces are named ``vincent-nx-<owner pid>-<token>-<host>``: whatever a dead owner
left behind (namespaces, processes in them) is removed by the next run, or by
``python tools/rabbitnetns.py sweep``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rabbitcluster import RabbitCluster
from rabbitnode import RabbitNode, _pid_alive

__all__ = ["Host", "NetnsCluster", "NetnsNode", "Network", "sweep"]

T = TypeVar("T")
PREFIX = "vincent-nx"
SUBNET = "198.18.0"  # RFC 2544's benchmarking range: never routed, never anyone's LAN
BRIDGE = "br0"
NET_TICKTIME = 10  # seconds; a cut node sees its peers gone after 7.5-12.5 s
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)
_here = threading.local()
# Holds the host's UTS namespace (its hostname) until the owner closes stdin or dies.
_HOLDER = """import socket, sys
socket.sethostname(sys.argv[1])
print("up", flush=True)
sys.stdin.buffer.read()
"""


def _ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS``; return stdout, raise with stderr."""
    result = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _setns(path: str, nstype: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, nstype) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def _kill_inside(netns: str) -> None:
    """SIGKILL every process in ``netns`` (ours: only we start processes there)."""
    pids = [int(pid) for pid in _ip("netns", "pids", netns, check=False).split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def sweep() -> list[str]:
    """Remove the namespaces (and their processes) of owners that are gone."""
    removed = []
    for name in _namespaces():
        if not name.startswith(PREFIX + "-"):
            continue
        owner = name[len(PREFIX) + 1 :].split("-", 1)[0]
        if owner.isdigit() and _pid_alive(int(owner)):
            continue  # a run still in progress (or a recycled pid: left alone)
        _kill_inside(name)
        _ip("netns", "del", name, check=False)
        removed.append(name)
    return removed


class Host:
    """One simulated machine: a network namespace and a hostname, on the bridge.

    ``run(fn)`` calls ``fn`` on a thread that lives on this host: the sockets it opens
    and the processes it starts are the host's. ``entered()`` moves the calling thread
    there for a ``with`` block (an asyncio client in a test).
    """

    def __init__(self, network: Network, hostname: str, number: int) -> None:
        self.network = network
        self.hostname = hostname
        self.address = f"{SUBNET}.{10 + number}"
        self.netns = f"{network.tag}-{hostname}"
        self.port = f"p{number}"  # its end on the bridge, in the hub namespace
        self._holder: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Host({self.hostname!r}, {self.address})"

    # -- lifecycle -------------------------------------------------------------------
    def up(self) -> None:
        hub = self.network.hub
        _ip("netns", "add", self.netns)
        _ip("-n", self.netns, "link", "add", "eth0", "type", "veth", "peer", "name", self.port,
            "netns", hub)  # fmt: skip
        _ip("-n", hub, "link", "set", self.port, "master", BRIDGE, "up")
        _ip("-n", self.netns, "addr", "add", f"{self.address}/24", "dev", "eth0")
        _ip("-n", self.netns, "link", "set", "eth0", "up")
        _ip("-n", self.netns, "link", "set", "lo", "up")
        holder = [sys.executable, "-c", _HOLDER, self.hostname, self.netns]
        self._holder = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "unshare", "--uts", "--", *holder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert self._holder.stdout is not None
        if self._holder.stdout.readline().strip() != b"up":
            raise RuntimeError(f"could not give {self.netns} the hostname {self.hostname}")

    def down(self) -> None:
        """End every process left on the host and delete its namespace."""
        if self._holder is not None:
            for stream in (self._holder.stdin, self._holder.stdout):
                if stream is not None:
                    stream.close()
            self._holder.kill()
            self._holder.wait(10)
            self._holder = None
        if self.netns in _namespaces():
            _kill_inside(self.netns)
            _ip("netns", "del", self.netns, check=False)

    # -- the link --------------------------------------------------------------------
    def cut(self) -> None:
        """Detach the host from the bridge: everything it sends or expects is lost."""
        _ip("-n", self.network.hub, "link", "set", self.port, "nomaster")

    def heal(self) -> None:
        _ip("-n", self.network.hub, "link", "set", self.port, "master", BRIDGE)

    # -- running things on the host --------------------------------------------------
    def _enter(self) -> None:
        if self._holder is None:
            raise RuntimeError(f"host {self.hostname} is not up")
        _setns(f"/run/netns/{self.netns}", _CLONE_NEWNET)
        _setns(f"/proc/{self._holder.pid}/ns/uts", _CLONE_NEWUTS)
        _here.host = self

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Move the calling thread onto this host for the block, then back."""
        previous = getattr(_here, "host", None)
        net = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        uts = os.open("/proc/thread-self/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._enter()
            yield
        finally:
            failed = [
                nstype
                for fd, nstype in ((net, _CLONE_NEWNET), (uts, _CLONE_NEWUTS))
                if _libc.setns(fd, nstype) != 0
            ]
            os.close(net)
            os.close(uts)
            _here.host = previous
            if failed:  # never leave a thread silently on a simulated host
                raise OSError(ctypes.get_errno(), f"could not leave host {self.hostname}")

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a thread of this host; its result or its exception."""
        if getattr(_here, "host", None) is self:
            return fn(*args, **kwargs)
        outcome: list[Any] = []

        def on_host() -> None:
            try:
                self._enter()
                outcome.append((True, fn(*args, **kwargs)))
            except BaseException as exc:  # handed to the caller's thread
                outcome.append((False, exc))

        thread = threading.Thread(target=on_host, name=f"host-{self.hostname}")
        thread.start()
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """``subprocess.Popen`` on this host."""
        return self.run(subprocess.Popen, args, **kwargs)


class Network:
    """A bridge in a hub namespace and the hosts linked to it."""

    def __init__(self) -> None:
        self.tag = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(3)}"
        self.hub = f"{self.tag}-hub"
        self.hosts: dict[str, Host] = {}

    def add(self, hostname: str) -> Host:
        """A host of this network (created by ``up()``)."""
        if hostname in self.hosts:
            raise ValueError(f"host {hostname!r} exists")
        if len(self.hosts) >= 200:
            raise ValueError("at most 200 hosts on one network")
        host = self.hosts[hostname] = Host(self, hostname, len(self.hosts) + 1)
        return host

    def up(self) -> None:
        if shutil.which("ip") is None:
            raise RuntimeError("needs `ip` (apt-get install iproute2), as root")
        sweep()
        try:
            _ip("netns", "add", self.hub)
            _ip("-n", self.hub, "link", "add", BRIDGE, "type", "bridge")
            _ip("-n", self.hub, "link", "set", BRIDGE, "up")
            for host in self.hosts.values():
                host.up()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Remove every host and the hub; safe to call twice, or after a failed ``up``."""
        errors: list[BaseException] = []
        for host in self.hosts.values():
            try:
                host.down()
            except BaseException as exc:  # the other hosts still go
                errors.append(exc)
        if self.hub in _namespaces():
            _kill_inside(self.hub)
            _ip("netns", "del", self.hub, check=False)
        if errors:
            raise errors[0]

    def hosts_file(self) -> str:
        """The hosts of this network as Erlang ``inetrc`` terms (name resolution)."""
        lines = [
            f'{{host, {{{host.address.replace(".", ",")}}}, ["{host.hostname}"]}}.'
            for host in self.hosts.values()
        ]
        return "\n".join([*lines, "{lookup, [file, native]}.", ""])


class NetnsNode(RabbitNode):
    """A :class:`RabbitNode` on a :class:`Host`: every command it runs, and every
    socket it opens to check on itself, runs on that host."""

    def __init__(self, base_dir: Path, host: Host, **kwargs: Any) -> None:
        kwargs["name"] = f"{kwargs['name']}@{host.hostname}"
        super().__init__(base_dir, **kwargs)
        self.host = host
        self.owns_epmd = True  # one epmd per host, on the cluster's epmd port

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@{self.host.address}:{self.amqp_port}/"

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("ERL_EPMD_ADDRESS")  # epmd answers the other hosts too
        env["ERL_INETRC"] = str(self.base_dir / "inetrc")  # the other hosts' names
        env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = ""
        return env

    def _prepare(self) -> None:
        super()._prepare()
        (self.base_dir / "inetrc").write_text(self.host.network.hosts_file())
        conf = self.base_dir / "rabbitmq.conf"
        text = conf.read_text().replace(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}",
            f"listeners.tcp.default = {self.amqp_port}",
        )
        extra = ["cluster_partition_handling = pause_minority", f"net_ticktime = {NET_TICKTIME}"]
        conf.write_text(text + "\n".join(extra) + "\n")

    def start(self, timeout: float = 60.0, *, detached: bool = False) -> None:
        self.host.run(super().start, timeout, detached=detached)

    def stop(self, timeout: float = 30.0, *, graceful: bool = True) -> None:
        self.host.run(super().stop, timeout, graceful=graceful)

    def start_app(self, timeout: float = 60.0) -> None:
        self.host.run(super().start_app, timeout)

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        return self.host.run(super().rabbitmqctl, *args, timeout=timeout)


class NetnsCluster(RabbitCluster):
    """``size`` RabbitMQ nodes on hosts ``rabbit1``... of a private network, plus the
    extra ``hosts`` (clients, workers) on the same network.

    ::

        with NetnsCluster(tmp_path, hosts=("client",)) as cluster:
            victim = cluster.nodes[0]
            victim.host.cut()                       # pause_minority pauses it
            cluster.await_paused(victim, 30)
            victim.host.heal()
            cluster.await_whole(60)
    """

    nodes: list[NetnsNode]  # type: ignore[assignment]

    def __init__(self, base_dir: Path, *, size: int = 3, hosts: tuple[str, ...] = ()) -> None:
        self.network = Network()
        self._node_hosts = [self.network.add(f"rabbit{number}") for number in range(1, size + 1)]
        for hostname in hosts:
            self.network.add(hostname)
        super().__init__(base_dir, size=size)

    def _new_node(self, number: int, name: str, cookie: str) -> RabbitNode:
        return NetnsNode(
            self.base_dir / f"node{number}",
            self._node_hosts[number - 1],
            name=name,
            epmd_port=self.epmd_port,
            cookie=cookie,
        )

    def host(self, hostname: str) -> Host:
        return self.network.hosts[hostname]

    def url(self, starting_at: int = 0, *, heartbeat: int | None = None) -> str:
        """Every node's URL, node ``starting_at`` first; ``heartbeat`` in seconds."""
        order = self.nodes[starting_at:] + self.nodes[:starting_at]
        query = f"?heartbeat={heartbeat}" if heartbeat is not None else ""
        return ",".join(node.url + query for node in order)

    # -- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        self.network.up()
        super().start(timeout)  # stops (so tears the network down) if it fails

    def stop(self) -> None:
        try:
            for node in self.nodes:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    node.stop(timeout=30.0)
        finally:
            self.network.down()

    def _start_epmd(self, deadline: float) -> None:
        """Nothing shared: each node starts its own epmd on its own host."""

    # -- partitions ------------------------------------------------------------------
    def status(self, node: NetnsNode) -> dict[str, Any]:
        """``cluster_status`` as ``node`` sees it."""
        raw = node.rabbitmqctl("cluster_status", "--formatter", "json", timeout=20)
        status: dict[str, Any] = json.loads(raw)
        return status

    def await_paused(self, node: NetnsNode, timeout: float) -> float:
        """Wait until the others no longer count ``node`` as running; seconds taken."""
        began = time.monotonic()
        others = [other for other in self.nodes if other is not node]
        while True:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                if node.name not in self.status(others[0]).get("running_nodes", []):
                    return time.monotonic() - began
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"{node.name} still counted as running after {timeout}s")
            time.sleep(0.5)

    def await_whole(self, timeout: float) -> float:
        """Wait until every node runs, sees all the others, and no partition is left."""
        began = time.monotonic()
        wanted = {node.name for node in self.nodes}
        last: Any = None
        while True:
            try:
                seen = [self.status(node) for node in self.nodes]
                last = [(s.get("running_nodes"), s.get("partitions")) for s in seen]
                if all(set(s.get("running_nodes", [])) >= wanted for s in seen) and not any(
                    s.get("partitions") for s in seen
                ):
                    for node in self.nodes:
                        node.rabbitmqctl("await_startup", "--timeout", "30", timeout=40)
                    return time.monotonic() - began
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last = exc
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"cluster not whole after {timeout}s: {last}")
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="RabbitMQ cluster in network namespaces.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sweep", help="remove namespaces left by runs that died")
    check = commands.add_parser("check", help="start a cluster, cut and heal a node, stop")
    check.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "sweep":
        for name in sweep():
            print(f"removed {name}")
        return 0
    began = time.monotonic()
    with NetnsCluster(args.dir) as cluster:
        print(f"cluster up in {time.monotonic() - began:.1f}s: {cluster.url()}", flush=True)
        victim = cluster.nodes[0]
        victim.host.cut()
        print(f"cut {victim.name}; paused after {cluster.await_paused(victim, 60):.1f}s")
        victim.host.heal()
        print(f"healed; whole again after {cluster.await_whole(120):.1f}s", flush=True)
    print(f"stopped; left behind: {[n for n in _namespaces() if n.startswith(PREFIX)]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
