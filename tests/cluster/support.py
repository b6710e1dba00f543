"""What the cluster tests share: the client's tally, one operation, sink workers on hosts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rabbitnetns import Host
from tests.apps.sink_process import SinkWorker, handled
from tests.poll import eventually_async
from vincent_core import Client, Vincent, VincentError
from vincent_core.app.listener import dead_letter_queue_spec

ROOT = Path(__file__).resolve().parents[2]
VINCENT = str(Path(sys.executable).with_name("vincent"))
DEAD = "vincent.dead"  # the sink app's dead-letter queue (the default)
METRICS_PORT = 9100  # every host has a network of its own: the same port everywhere


@dataclass
class Tally:
    """What the client saw."""

    confirmed: set[int] = field(default_factory=set)
    cast_errors: Counter[str] = field(default_factory=Counter)
    calls_ok: int = 0
    call_errors: Counter[str] = field(default_factory=Counter)
    finished_after_stop: int = 0
    #: loop time of the first and the last failed operation
    first_failure: float = 0.0
    last_failure: float = 0.0
    #: the first message of each error type, for the report
    samples: dict[str, str] = field(default_factory=dict)
    #: CancelledErrors raised by cast/call although nobody cancelled the caller
    leaked_cancels: int = 0


async def operate(
    client: Client, key: str, n: int, tally: Tally, stopped: asyncio.Event, call_timeout: float
) -> None:
    """Cast (even ``n``) or call (odd ``n``) and count what happened."""
    try:
        if n % 2 == 0:
            await client.cast(key, {"n": n})
            tally.confirmed.add(n)
        else:
            answer = await client.call(key, {"n": n}, timeout=call_timeout)
            assert answer == n, f"call {n} answered {answer!r}"
            tally.calls_ok += 1
    except VincentError as error:
        # Anything else (a bare aiormq error, a KeyError...) is not a clear error: it fails
        # the test by propagating.
        _failed(tally, n, type(error).__name__, str(error))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the caller's own cancellation
        # Leaked from the transport to a caller nobody cancelled: a defect, counted so
        # that the rest of the scenario is still measured, and asserted on by the test.
        tally.leaked_cancels += 1
        _failed(tally, n, "CancelledError", "leaked from the transport")
    if stopped.is_set():
        tally.finished_after_stop += 1


async def await_handled(sink: Path, expected: set[int], timeout: float) -> Counter[int]:
    """Wait (at most ``timeout``) until every expected message is in the sink; then what
    was handled, how often (a shortfall is the caller's to report, with its numbers)."""

    async def all_handled() -> bool:
        return expected <= set(handled(sink))

    with contextlib.suppress(AssertionError):
        await eventually_async(all_handled, timeout, interval=0.2)
    return handled(sink)


async def paced_flow(
    count: int,
    rate: float,
    window: int,
    operation: Callable[[int], Awaitable[None]],
    *,
    mark: int,
    marked: asyncio.Event,
) -> float:
    """Start ``operation(n)`` for each n < ``count`` at ``rate`` per second, at most
    ``window`` at once; set ``marked`` as operation ``mark`` starts. Seconds taken."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(window)

    async def one(n: int) -> None:
        try:
            await operation(n)
        finally:
            slots.release()

    started = loop.time()
    tasks = []
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
        await slots.acquire()
        if n == mark:
            marked.set()
        tasks.append(asyncio.ensure_future(one(n)))
    await asyncio.gather(*tasks)
    return loop.time() - started


def _failed(tally: Tally, n: int, kind: str, text: str) -> None:
    target = tally.cast_errors if n % 2 == 0 else tally.call_errors
    target[kind] += 1
    tally.samples.setdefault(kind, text)
    now = asyncio.get_running_loop().time()
    tally.first_failure = tally.first_failure or now
    tally.last_failure = now


async def declare_from(url: str, exchange: str, key: str) -> None:
    """Declare the sink's queues as its workers will, from ``url``'s node: a quorum
    queue's leader starts on the node of the connection that declared it."""
    app = Vincent(url, exchange=exchange)
    app.listen(key, queue_type="quorum")(lambda msg: None)
    async with Client(url, exchange=exchange) as client:
        await client.transport.declare_queue(dead_letter_queue_spec(DEAD, app.listeners))
        await client.transport.declare_queue(app.listeners[0].queue_spec(key, DEAD))


async def dead_lettered(client: Client) -> Counter[int]:
    """Empty the dead-letter queue: how many times each message number is in it."""
    found: Counter[int] = Counter()
    while (delivery := await client.take(DEAD)) is not None:
        found[int(orjson.loads(delivery.envelope.body)["n"])] += 1
        await delivery.ack()
    return found


class HostWorker(SinkWorker):
    """``vincent serve APP --metrics-port PORT`` on a simulated host, started and READY
    on construction (the app prints READY when it consumes; its settings in ``env``);
    stopped as a :class:`SinkWorker` is."""

    def __init__(
        self,
        host: Host,
        url: str,
        exchange: str,
        log: Path,
        *,
        app: str = "tests.apps.sink:app",
        metrics_port: int = METRICS_PORT,
        **env: str,
    ) -> None:
        self.host = host
        self.metrics_port = metrics_port
        environ = dict(
            os.environ, VINCENT_BROKER_URL=url, VINCENT_EXCHANGE=exchange, PYTHONPATH=str(ROOT)
        )
        self.log = log.open("w")
        serve = ["serve", app, "--log-format", "plain", "--metrics-port", str(metrics_port)]
        self.process = host.popen(
            [VINCENT, *serve],
            cwd=ROOT,
            env={**environ, **env},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "READY", log.read_text()

    def _get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def healthz(self) -> tuple[int, str]:
        """``/healthz``: (status, text), asked on the worker's own host."""
        return self.host.run(self._get, "/healthz")

    def connection_state(self) -> str:
        """The state whose ``vincent_connection_state`` gauge is 1."""
        _, text = self.host.run(self._get, "/metrics")
        for line in text.splitlines():
            if line.startswith("vincent_connection_state{") and line.endswith(" 1.0"):
                return line.split('state="', 1)[1].split('"', 1)[0]
        return "none"


def vincent_health(
    host: Host, url: str, app: str, timeout: float, **env: str
) -> tuple[int, float, Any]:
    """``vincent health APP`` run on ``host``: (exit code, seconds, JSON or stderr)."""
    environ = {**os.environ, "VINCENT_BROKER_URL": url, "PYTHONPATH": str(ROOT), **env}
    began = time.monotonic()

    def check() -> subprocess.CompletedProcess[bytes]:
        command = [VINCENT, "health", app, "--timeout", str(timeout)]
        return subprocess.run(
            command, env=environ, cwd=ROOT, capture_output=True, timeout=timeout + 30
        )

    done = host.run(check)
    took = time.monotonic() - began
    body = orjson.loads(done.stdout) if done.stdout.strip() else done.stderr.decode().strip()
    return done.returncode, took, body
