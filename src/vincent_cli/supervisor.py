"""``vincent serve --workers N`` and ``--reload``: worker processes kept running by the CLI.

The supervisor starts N ``vincent serve MODULE:OBJ`` children, each in its own session
(a Ctrl-C on the terminal reaches the supervisor only, which forwards one SIGTERM, so a
child's graceful stop is not turned into a hard stop by a second signal). It restarts a
child that dies, with backoff; with ``--reload`` it restarts all of them when a Python
file changes. A child whose app cannot even be loaded (exit 2) stops everything, unless
``--reload`` waits for the fix. Children die with the supervisor (Linux
``PR_SET_PDEATHSIG``), so a killed supervisor leaves no orphans consuming messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vincent_cli.exit_codes import OK, USAGE

__all__ = ["SUPERVISOR_ENV", "Supervisor", "die_with_parent"]

log = logging.getLogger("vincent.serve")

#: set in a child's environment to the supervisor's pid
SUPERVISOR_ENV = "_VINCENT_SUPERVISOR_PID"
_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
#: a child that ran this long before dying is restarted without a growing delay
_HEALTHY_AFTER = 10.0
#: how long after the grace period a child gets before SIGKILL
_KILL_MARGIN = 5.0
#: the grace of a restart for --reload: someone is waiting to try their change, and what
#: does not finish goes back to its queue for the new worker
RELOAD_GRACE = 2.0


def die_with_parent() -> None:
    """In a child: receive SIGTERM when the supervisor dies (Linux only; best effort)."""
    expected = os.environ.get(SUPERVISOR_ENV)
    if not expected:
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    if str(os.getppid()) != expected:
        # The supervisor died before prctl took effect.
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Slot:
    number: int
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    failures: int = 0
    watcher: asyncio.Task[None] | None = None


@dataclass
class Supervisor:
    """Keeps ``workers`` copies of ``command`` running until a signal arrives."""

    command: Sequence[str]
    env: dict[str, str]
    workers: int
    grace: float
    reload_paths: Sequence[Path] = ()
    #: worker i (from 1) serves metrics on ``metrics_port + i - 1``: one port each, since
    #: every process has its own counters (Prometheus sums them across targets)
    metrics_port: int | None = None
    _slots: list[_Slot] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _restarting: bool = False
    _exit_code: int = OK

    async def run(self) -> int:
        """Supervise until SIGINT/SIGTERM (graceful; a second one stops at once)."""
        loop = asyncio.get_running_loop()
        signals = 0

        def on_signal(signum: int) -> None:
            nonlocal signals
            signals += 1
            self._stopping.set()
            if signals > 1:
                log.warning("second signal: stopping the workers now")
                self._signal_all(signal.SIGTERM)

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        self._slots = [_Slot(number) for number in range(1, self.workers + 1)]
        try:
            for slot in self._slots:
                await self._start(slot)
            reloader = (
                asyncio.ensure_future(self._reload_on_change()) if self.reload_paths else None
            )
            await self._stopping.wait()
            if reloader is not None:
                reloader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reloader
            await self._stop_all()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        return self._exit_code

    async def _start(self, slot: _Slot) -> None:
        env = dict(self.env, **{SUPERVISOR_ENV: str(os.getpid())})
        command = list(self.command)
        if self.metrics_port is not None:
            command += ["--metrics-port", str(self.metrics_port + slot.number - 1)]
        slot.process = await asyncio.create_subprocess_exec(
            *command, env=env, start_new_session=True
        )
        slot.started = asyncio.get_running_loop().time()
        log.info("worker %d started (pid %d)", slot.number, slot.process.pid)
        slot.watcher = asyncio.ensure_future(self._watch(slot, slot.process))

    async def _watch(self, slot: _Slot, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if self._stopping.is_set() or self._restarting or slot.process is not process:
            return
        loop = asyncio.get_running_loop()
        if code == USAGE:
            if self.reload_paths:
                log.error(
                    "worker %d cannot load or start the app (exit 2): fix it and save", slot.number
                )
                return
            log.error("worker %d cannot load or start the app (exit 2): stopping", slot.number)
            self._exit_code = USAGE
            self._stopping.set()
            return
        ran = loop.time() - slot.started
        slot.failures = 0 if ran >= _HEALTHY_AFTER else slot.failures + 1
        delay = _BACKOFF[min(slot.failures, len(_BACKOFF) - 1)] if slot.failures else 0.0
        log.warning("worker %d (pid %d) exited with %s; restarting", slot.number, process.pid, code)
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        if not self._stopping.is_set() and not self._restarting:
            await self._start(slot)

    def _signal_all(self, signum: int) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(signum)

    async def _stop_all(self, grace: float | None = None) -> None:
        """SIGTERM every child, wait out the grace period, then SIGKILL stragglers.

        A shorter ``grace`` than the children's own (a reload) is enforced with a second
        SIGTERM when it ends: the children then stop at once, leaving unfinished messages
        to the broker to redeliver."""
        self._signal_all(signal.SIGTERM)
        running = [s.process for s in self._slots if s.process and s.process.returncode is None]
        if not running:
            return
        waits = [asyncio.ensure_future(p.wait()) for p in running]
        if grace is not None and grace < self.grace:
            _, pending = await asyncio.wait(waits, timeout=grace)
            if not pending:
                return
            log.warning("%d worker(s) still busy after %gs: stopping them now", len(pending), grace)
            self._signal_all(signal.SIGTERM)
        else:
            grace = self.grace
        _, pending = await asyncio.wait(waits, timeout=grace + _KILL_MARGIN)
        if pending:
            log.error("%d worker(s) did not stop in time: killing them", len(pending))
            self._signal_all(signal.SIGKILL)
            await asyncio.wait(pending)

    async def _reload_on_change(self) -> None:
        import watchfiles

        async for changes in watchfiles.awatch(
            *self.reload_paths, watch_filter=watchfiles.PythonFilter(), stop_event=self._stopping
        ):
            names = sorted({Path(path).name for _, path in changes})
            log.warning("changed: %s; restarting the workers", ", ".join(names))
            self._restarting = True
            try:
                await self._stop_all(RELOAD_GRACE)
                for slot in self._slots:
                    slot.failures = 0
                    await self._start(slot)
            finally:
                self._restarting = False
