"""Time for the in-process broker: the real one, or one a test moves by hand.

Message TTLs and the retry delays built on them are measured on a :class:`Clock`.
:class:`SystemClock` is real time; :class:`VirtualClock` only moves when a test calls
:meth:`VirtualClock.advance`, which runs every timer that fell due on the way, so a
30-second retry delay is tested in microseconds and without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "SystemClock", "Timer", "VirtualClock"]


class Timer(Protocol):
    """A callback scheduled on a clock."""

    @property
    def active(self) -> bool:
        """Whether the callback will still run (not run yet, not cancelled, not orphaned)."""

    def cancel(self) -> None:
        """Do not run the callback (no effect once it ran)."""


class Clock(Protocol):
    """Seconds on a monotonic scale, and callbacks at points on it."""

    def now(self) -> float:
        """The current time, in seconds (only differences mean anything)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once, ``delay`` seconds from now."""


class _LoopTimer:
    __slots__ = ("_handle", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, handle: asyncio.TimerHandle) -> None:
        self._loop = loop
        self._handle = handle

    @property
    def active(self) -> bool:
        # A timer on a loop that has since closed will never fire: the broker re-arms it.
        return not self._handle.cancelled() and not self._loop.is_closed()

    def cancel(self) -> None:
        if self._loop.is_closed() or self._handle.cancelled():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._handle.cancel()
        else:
            # TimerHandle.cancel is not thread-safe: let the owning loop do it.
            self._loop.call_soon_threadsafe(self._handle.cancel)


class _Unarmed:
    """A timer that could not be scheduled (no running loop): never fires."""

    active = False

    def cancel(self) -> None:
        return None


class SystemClock:
    """Real time: ``time.monotonic()``, timers on the running event loop's ``call_later``.

    The clock reads ``time.monotonic()`` rather than one loop's ``time()`` because one
    broker serves every loop of the process (a ``SyncClient`` runs its own); asyncio's
    default loops use the same monotonic clock, so the two agree.
    """

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Outside any loop (a synchronous reset or clock swap): the next broker
            # operation, which always runs on a loop, schedules it for real.
            return _Unarmed()
        return _LoopTimer(loop, loop.call_later(max(0.0, delay), callback))


class _VirtualTimer:
    __slots__ = ("_cancelled", "_done", "callback", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self._cancelled = False
        self._done = False

    @property
    def active(self) -> bool:
        return not self._cancelled and not self._done

    def cancel(self) -> None:
        self._cancelled = True


class VirtualClock:
    """A clock that stands still until :meth:`advance` moves it.

    ::

        clock = VirtualClock()
        broker = get_broker(clock=clock)
        ...                       # publish with expiration="5000"
        clock.advance(5)          # the message expires (and is dead-lettered) right here

    Timers run synchronously inside :meth:`advance`, in due order, with :meth:`now`
    reading their due time while they run. Safe to use from several threads.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _VirtualTimer]] = []
        self._sequence = itertools.count()
        self._lock = threading.RLock()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        with self._lock:
            timer = _VirtualTimer(self._now + max(0.0, delay), callback)
            heapq.heappush(self._timers, (timer.due, next(self._sequence), timer))
            return timer

    @property
    def pending(self) -> int:
        """How many timers are still to run."""
        with self._lock:
            return sum(1 for _, _, timer in self._timers if timer.active)

    def next_due(self) -> float | None:
        """When the next timer falls due (on this clock's scale), or ``None``."""
        with self._lock:
            while self._timers and not self._timers[0][2].active:
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running every timer due by then (including
        timers those timers schedule, if they fall due in the window)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        with self._lock:
            target = self._now + seconds
        while True:
            # Run each callback outside the lock: it takes the broker's lock, and a thread
            # holding that one may be scheduling a timer here.
            with self._lock:
                if not self._timers or self._timers[0][0] > target:
                    self._now = max(self._now, target)
                    return
                due, _, timer = heapq.heappop(self._timers)
                if not timer.active:
                    continue
                self._now = max(self._now, due)
                timer._done = True
            timer.callback()
