#!/usr/bin/env python3
"""A private, throwaway RabbitMQ node for tests, the demo and benchmarks.

Never the system broker: every node has its own directory, ports, Erlang cookie and
epmd. As a script::

    python tools/rabbitnode.py ensure          # install rabbitmq-server if missing
    python tools/rabbitnode.py start DIR       # start detached, print the AMQP URL
    python tools/rabbitnode.py url DIR
    python tools/rabbitnode.py api DIR             # its management API (start --management)
    python tools/rabbitnode.py stop DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from typing import Self  # 3.11+, and `make rabbitmq` may run an older python3

__all__ = ["CLIENT_CN", "RabbitNode", "TlsFiles", "ensure_rabbitmq_installed", "find_sbin"]

# The Debian /usr/sbin scripts are wrappers that `su rabbitmq` and force HOME to
# /var/lib/rabbitmq; the real scripts live here (or in a generic-unix tarball's sbin).
SBIN_CANDIDATES = (Path("/usr/lib/rabbitmq/bin"), Path("/usr/local/lib/rabbitmq/bin"))
STATE_FILE = "node.json"
STATE_KEYS = ("url", "name", "amqp_port", "pid", "dist_port", "epmd_port", "tls_port",
              "management_port")  # fmt: skip
POLL = 0.05
NOT_INSTALLED = (
    "RabbitMQ is not installed. As root on Debian/Ubuntu, `make rabbitmq` installs it; or install "
    "the server yourself: `sudo apt-get install rabbitmq-server`, `brew install rabbitmq`, "
    "or set VINCENT_RABBITMQ_SBIN to the directory holding rabbitmq-server and rabbitmqctl."
)

# Holds the read end of a pipe from the owner: EOF means the owner died without stop().
WATCHDOG = """import os, signal, subprocess, sys
sys.stdin.buffer.read()
pid = int(sys.argv[1])
try:  # only a process group still led by the server script, never a recycled pid
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        ours = b"rabbitmq-server" in cmdline.read()
except FileNotFoundError:
    ours = False
except OSError:
    ours = True
if ours:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
if sys.argv[2]:
    subprocess.run([sys.argv[2], "-port", sys.argv[3], "-kill"], capture_output=True)
"""


#: the common name of the test client certificate, and so the user EXTERNAL logs in as
CLIENT_CN = "vincent-test-client"


class TlsFiles(NamedTuple):
    """PEM files for a TLS client: the test CA and a client certificate it signed."""

    ca: Path
    cert: Path
    key: Path


def find_sbin() -> Path | None:
    """The directory holding the real ``rabbitmq-server`` and ``rabbitmqctl`` scripts."""
    override = os.environ.get("VINCENT_RABBITMQ_SBIN")
    candidates = [Path(override)] if override else list(SBIN_CANDIDATES)
    found = shutil.which("rabbitmq-server")
    if found and not override and Path(found).resolve().name == "rabbitmq-server":
        candidates.append(Path(found).resolve().parent)
    for directory in candidates:
        if (directory / "rabbitmq-server").exists() and (directory / "rabbitmqctl").exists():
            return directory
    return None


def ensure_rabbitmq_installed() -> None:
    """Install Debian's ``rabbitmq-server`` when it is missing (root only), else exit."""
    if find_sbin() is not None:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "rabbitmq-server"]):
            subprocess.run(command, check=True, env=env, stdout=sys.stderr)
        if find_sbin() is not None:
            return
    raise SystemExit(NOT_INSTALLED)


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("", 0))  # free on every interface, so on loopback too
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def _epmd() -> str | None:
    erl = shutil.which("erl")
    erts = sorted(Path(erl).resolve().parents[1].glob("erts-*/bin/epmd")) if erl else []
    return shutil.which("epmd") or (str(erts[-1]) if erts else None)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:  # a zombie (exited, not yet reaped by whoever adopted it) is dead too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: signal 0 only tells whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def _tail(path: Path, lines: int = 30) -> str:
    """The first error lines (the cause, before the crash reports) and the last lines."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in text[:-lines] if "[error]" in line][:10]
    return "\n".join([*errors, "[...]", *text[-lines:]] if errors else text[-lines:])


class RabbitNode:
    """A private RabbitMQ node whose data, logs, config and cookie live under ``base_dir``.

    It listens on free loopback ports only and runs its own epmd (``ERL_EPMD_PORT``), so
    it never touches a system broker or the system epmd. ``restart()`` keeps the name,
    ports and data directory, so durable queues and persistent messages survive.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        name: str | None = None,
        amqp_port: int | None = None,
        tls: bool = False,
        management: bool = False,
        epmd_port: int | None = None,
        cookie: str | None = None,
        external_auth: bool = False,
    ) -> None:
        """``epmd_port`` and ``cookie`` are for cluster members (tools/rabbitcluster.py):
        they share one epmd, which the cluster then owns (start/stop leave it alone).

        ``external_auth`` (with ``tls``) enables rabbitmq_auth_mechanism_ssl: the TLS
        listener then requires a client certificate signed by the test CA, and the
        EXTERNAL mechanism logs in as the user named by its common name
        (:data:`CLIENT_CN`; create it with ``rabbitmqctl add_user``)."""
        self.base_dir = Path(base_dir).resolve()
        self.home = self.base_dir / "home"
        self.log_file = self.base_dir / "log" / "rabbit.log"
        name = name or f"vincent-test-{secrets.token_hex(4)}"
        self.name = name if "@" in name else f"{name}@localhost"
        taken: set[int] = {p for p in (amqp_port, epmd_port) if p}
        self.amqp_port = amqp_port or _free_port(taken)
        self.dist_port = _free_port(taken)
        self.epmd_port = epmd_port or _free_port(taken)
        self.owns_epmd = epmd_port is None
        self.cookie = cookie
        self.tls_port = _free_port(taken) if tls or external_auth else None
        self.external_auth = external_auth
        self.management_port = _free_port(taken) if management else None
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self.sbin = find_sbin() or SBIN_CANDIDATES[0]

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def tls_url(self) -> str:
        if self.tls_port is None:
            raise RuntimeError("this node was created without tls=True")
        return f"amqps://guest:guest@localhost:{self.tls_port}/"

    @property
    def tls_files(self) -> TlsFiles:
        if self.tls_port is None:
            raise RuntimeError("this node was created without tls=True")
        tls = self.base_dir / "tls"
        return TlsFiles(tls / "ca.pem", tls / "client.pem", tls / "client.key")

    @property
    def api_url(self) -> str:
        if self.management_port is None:
            raise RuntimeError("this node was created without management=True")
        return f"http://guest:guest@127.0.0.1:{self.management_port}/"

    @property
    def running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self.pid is not None and _pid_alive(self.pid)

    def env(self) -> dict[str, str]:
        """The environment for the server and for the CLI tools talking to it."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RABBITMQ_", "ERL_EPMD_"))
        }
        base, mnesia = self.base_dir, self.base_dir / "mnesia"
        env.update(
            HOME=str(self.home),  # the Erlang cookie is $HOME/.erlang.cookie
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            ERL_CRASH_DUMP=str(base / "log" / "erl_crash.dump"),
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_USE_LONGNAME="false",
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=str(base / "rabbitmq.conf"),
            # Point every /etc/rabbitmq default at files of ours, most of them absent.
            RABBITMQ_CONFIG_FILES=str(base / "conf.d"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(base / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(base / "rabbitmq-env.conf"),
            RABBITMQ_MOTD_FILE=str(base / "motd"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(mnesia),
            RABBITMQ_MNESIA_DIR=str(mnesia / self.name),
            RABBITMQ_PID_FILE=str(mnesia / f"{self.name}.pid"),
            RABBITMQ_LOG_BASE=str(base / "log"),
            RABBITMQ_LOGS=str(self.log_file),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        return env

    # -- lifecycle ------------------------------------------------------------------
    def start(self, timeout: float = 60.0, *, detached: bool = False) -> None:
        """Start the node and return once it accepts AMQP connections.

        Unless ``detached``, a watchdog kills the node if this process dies without
        calling ``stop()`` (crash, SIGKILL), so no broker is ever left behind.
        """
        if self.running:
            return
        sbin = find_sbin()
        if sbin is None:
            raise RuntimeError(NOT_INSTALLED)
        self.sbin = sbin
        deadline = time.monotonic() + timeout
        self._prepare()
        busy = [port for port in self._listen_ports() if _port_open(port)]
        if busy:
            raise RuntimeError(f"cannot start {self.name}: port(s) {busy} already in use")
        self._start_epmd(deadline)
        with (self.base_dir / "log" / "stdout.log").open("ab") as output:
            self._process = subprocess.Popen(
                [str(self.sbin / "rabbitmq-server")],
                env=self.env(),
                cwd=self.base_dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, and it outlives a script
            )
        self.pid = self._process.pid
        if not detached:
            epmd = (_epmd() or "") if self.owns_epmd else ""
            watched = [str(self.pid), epmd, str(self.epmd_port)]
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", WATCHDOG, *watched],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._save_state()
        try:
            self._await_ready(deadline)
        except BaseException:
            self.stop(timeout=10.0, graceful=False)
            raise

    def stop(self, timeout: float = 30.0, *, graceful: bool = True) -> None:
        """Stop the node and its epmd; a no-op when already stopped."""
        if self.pid is not None and self.running:
            asked = False
            if graceful:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self.rabbitmqctl("stop", timeout=timeout)
                    asked = True
            if not self._wait_exit(timeout if asked else 0.0):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, signal.SIGKILL)
                self._wait_exit(10.0)
        self._process = None
        self.pid = None
        if self.owns_epmd:
            self._kill_epmd()
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            if self._watchdog.stdin is not None:
                self._watchdog.stdin.close()
            self._watchdog = None
        self._save_state()

    def restart(self, timeout: float = 60.0) -> None:
        """Stop the whole node and start it again: same name, ports and data."""
        self.stop()
        self.start(timeout)

    def stop_app(self) -> None:
        """Stop the RabbitMQ application: connections drop, the ports close."""
        self.rabbitmqctl("stop_app")

    def start_app(self, timeout: float = 60.0) -> None:
        """Start the application again on the same ports, and wait until it serves."""
        deadline = time.monotonic() + timeout
        self.rabbitmqctl("start_app", timeout=timeout)
        self._await_ready(deadline)

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl -n NODE *args``; return its stdout, raise with its stderr."""
        result = subprocess.run(
            [str(self.sbin / "rabbitmqctl"), "-n", self.name, *args],
            env=self.env(),
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            detail = (result.stderr.strip() or result.stdout.strip())[-2000:]
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} exited {result.returncode}: {detail}")
        return result.stdout

    def log_tail(self, lines: int = 30) -> str:
        """The end of the node's log and of its console output, with their first errors."""
        console = _tail(self.base_dir / "log" / "stdout.log", lines)
        return f"{_tail(self.log_file, lines)}\n--- console output ---\n{console}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- state file (for the detached CLI) -------------------------------------------
    def _save_state(self) -> None:
        state = {key: getattr(self, key) for key in STATE_KEYS}
        (self.base_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def attach(cls, base_dir: Path) -> RabbitNode:
        """The node described by ``base_dir/node.json`` (started by another process)."""
        state: dict[str, Any] = json.loads((Path(base_dir) / STATE_FILE).read_text())
        node = cls(base_dir, name=state["name"], amqp_port=state["amqp_port"])
        for key in STATE_KEYS[3:]:
            setattr(node, key, state[key])
        environ = Path(f"/proc/{node.pid}/environ")
        with contextlib.suppress(OSError):  # a recycled pid is not ours: never kill it
            if f"RABBITMQ_NODENAME={node.name}\0" not in environ.read_text(errors="replace"):
                node.pid = None
        return node

    # -- internals ------------------------------------------------------------------
    def _prepare(self) -> None:
        for sub in ("home", "log", "mnesia"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            secret = self.cookie or "".join(
                secrets.choice(string.ascii_uppercase) for _ in range(20)
            )
            cookie.write_text(secret)
            cookie.chmod(0o400)
        (self.base_dir / "rabbitmq-env.conf").write_text("")
        plugins = ["rabbitmq_management"] if self.management_port else []
        if self.external_auth:  # enabled offline: the node reads this file as it boots
            plugins.append("rabbitmq_auth_mechanism_ssl")
        (self.base_dir / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        config = [
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}",
            "loopback_users = none",
            "log.console = false",
            "log.file.level = info",
            "disk_free_limit.absolute = 50MB",
        ]
        if self.tls_port is not None:
            files = self.tls_files
            tls = files.ca.parent
            if not files.key.exists():
                _make_certs(tls)
            config += [
                f"listeners.ssl.default = 127.0.0.1:{self.tls_port}",
                f"ssl_options.cacertfile = {files.ca}",
                f"ssl_options.certfile = {tls / 'server.pem'}",
                f"ssl_options.keyfile = {tls / 'server.key'}",
                "ssl_options.verify = verify_peer",
                f"ssl_options.fail_if_no_peer_cert = {str(self.external_auth).lower()}",
            ]
            if self.external_auth:
                config += [
                    "auth_mechanisms.1 = EXTERNAL",
                    "auth_mechanisms.2 = PLAIN",
                    "ssl_cert_login_from = common_name",
                ]
        if self.management_port is not None:
            config += [f"management.tcp.port = {self.management_port}"]
            config += ["management.tcp.ip = 127.0.0.1"]
        (self.base_dir / "rabbitmq.conf").write_text("\n".join(config) + "\n")

    def _start_epmd(self, deadline: float) -> None:
        # Started by us with -relaxed_command_check so `epmd -kill` works even if a node
        # is still registered; otherwise erl would start one by itself.
        epmd = _epmd()
        if epmd is None or _port_open(self.epmd_port):
            return
        subprocess.run(
            [epmd, "-daemon", "-relaxed_command_check", "-port", str(self.epmd_port)],
            env=self.env(),
            check=False,
        )
        while not _port_open(self.epmd_port) and time.monotonic() < deadline:
            time.sleep(POLL)

    def _kill_epmd(self) -> None:
        epmd = _epmd()
        if epmd is None or not _port_open(self.epmd_port):
            return
        subprocess.run(
            [epmd, "-port", str(self.epmd_port), "-kill"],
            env=self.env(),
            capture_output=True,
            check=False,
            timeout=10,
        )

    def _listen_ports(self) -> list[int]:
        ports = [self.amqp_port, self.tls_port, self.management_port]
        return [port for port in ports if port is not None]

    def _fail(self, problem: str) -> RuntimeError:
        log_dir = self.base_dir / "log"
        return RuntimeError(f"RabbitMQ node {self.name} {problem}; log tail ({log_dir}):\n"
                            f"{self.log_tail()}")  # fmt: skip

    def _registered(self) -> bool:
        """Whether the node is in its epmd (an EPMD NAMES_REQ, cheaper than the CLI)."""
        try:
            with socket.create_connection(("127.0.0.1", self.epmd_port), timeout=1.0) as sock:
                sock.sendall(b"\x00\x01n")
                reply = b"".join(iter(lambda: sock.recv(4096), b""))
        except OSError:
            return False
        return f"name {self.name.split('@')[0]} at port ".encode() in reply

    def _await_ready(self, deadline: float) -> None:
        waiting, ready, error = self._listen_ports(), False, ""
        while True:
            if not self.running:
                code = self._process.poll() if self._process else None
                raise self._fail(f"exited (code {code}) while starting{error}")
            if time.monotonic() > deadline:
                raise self._fail(f"not ready in time (ports {waiting} closed){error}")
            # await_startup fails at once until the node is in epmd, then waits for the
            # boot; starting it early overlaps the CLI's own start-up with the boot.
            if not ready and self._registered():
                remaining = max(1, int(deadline - time.monotonic()))
                try:
                    self.rabbitmqctl("await_startup", "--timeout", str(remaining))
                    ready = True
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    error = f" ({exc})"
            waiting = [port for port in waiting if not _port_open(port)]
            if ready and not waiting:
                return
            time.sleep(POLL)

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(max(0.0, deadline - time.monotonic()))
                    return True
                return False
            if self.pid is None or not _pid_alive(self.pid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)


def _make_certs(directory: Path) -> None:
    """A throwaway CA, a server certificate for localhost/127.0.0.1 and a client one."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("tls=True needs the `openssl` command (apt-get install openssl)")
    cnf = directory / "openssl.cnf"
    cnf.write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = vincent-test\n"
        "[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n"
        "subjectKeyIdentifier = hash\n"
        "[server]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n"
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
        "[client]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-config", str(cnf), "-extensions", "ca", *newkey, "-days", "30",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=vincent-test-ca")  # fmt: skip
    for leaf, cn in (("server", "localhost"), ("client", CLIENT_CN)):
        run("req", "-new", "-config", str(cnf), *newkey, "-keyout", f"{leaf}.key",
            "-out", f"{leaf}.csr", "-subj", f"/CN={cn}")  # fmt: skip
        run("x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(secrets.randbits(63)), "-days", "30", "-extfile", str(cnf),
            "-extensions", leaf, "-out", f"{leaf}.pem")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A private, throwaway RabbitMQ node.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure", help="install rabbitmq-server if it is missing")
    start = commands.add_parser("start", help="start a detached node, print its AMQP URL")
    start.add_argument("dir", type=Path)
    start.add_argument("--tls", action="store_true")
    start.add_argument("--management", action="store_true")
    start.add_argument("--timeout", type=float, default=60.0)
    for command, text in (
        ("stop", "stop the node of DIR"),
        ("url", "print its AMQP URL"),
        ("api", "print its management API URL (a node started with --management)"),
    ):
        commands.add_parser(command, help=text).add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "ensure":
        ensure_rabbitmq_installed()
        return 0
    state = args.dir / STATE_FILE
    if args.command == "start":
        if state.exists() and RabbitNode.attach(args.dir).running:
            raise SystemExit(f"a node is already running in {args.dir}")
        args.dir.mkdir(parents=True, exist_ok=True)
        node = RabbitNode(args.dir, tls=args.tls, management=args.management)
        node.start(args.timeout, detached=True)
        print(node.url, flush=True)
    elif not state.exists():
        if args.command in ("url", "api"):
            raise SystemExit(f"no node in {args.dir} ({STATE_FILE} is missing)")
    elif args.command == "url":
        print(RabbitNode.attach(args.dir).url)
    elif args.command == "api":
        attached = RabbitNode.attach(args.dir)
        if attached.management_port is None:
            raise SystemExit(f"the node in {args.dir} was started without --management")
        print(attached.api_url)
    else:
        RabbitNode.attach(args.dir).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
