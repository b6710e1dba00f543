"""The threads plain ``def`` handlers run in."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["HandlerThreads", "handler_waits"]

T = TypeVar("T")
_STOP = object()
#: how often the loop checks that queued handlers still get threads (see _watch)
_WATCH_INTERVAL = 0.002
#: the pool the current thread belongs to, if it is a handler thread
_local = threading.local()


@contextlib.contextmanager
def handler_waits() -> Iterator[None]:
    """Around a wait in a handler thread (``msg.call`` or ``msg.cast`` in a ``def``
    handler): the work queued meanwhile, the nested call's own handler perhaps, gets
    another thread at once instead of at the pool's next check."""
    pool: HandlerThreads | None = getattr(_local, "pool", None)
    if pool is None:
        yield
        return
    pool._waiting(+1)
    try:
        yield
    finally:
        pool._waiting(-1)


class _Completions:
    """Results finished by handler threads, handed to one event loop in batches.

    ``run_in_executor`` costs, per message, a ``concurrent.futures.Future`` (with its
    ``Condition``), a ``wrap_future`` chain and one ``call_soon_threadsafe``: a write to
    the loop's self-pipe and a wake-up. Here a thread appends its result to a list and
    wakes the loop only when no wake-up is pending already; the loop then settles every
    result gathered meanwhile in one callback.
    """

    __slots__ = ("_done", "_lock", "_loop", "_waking")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._done: list[tuple[asyncio.Future[Any], bool, Any]] = []
        self._waking = False

    def add(self, future: asyncio.Future[Any], ok: bool, value: Any) -> None:
        with self._lock:
            self._done.append((future, ok, value))
            if self._waking:
                return
            self._waking = True
        # A closed loop raises RuntimeError: nobody waits for these results any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
            self._waking = False
        for future, ok, value in done:
            if future.cancelled():
                continue  # the grace period ended: its message is back in the queue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


class HandlerThreads(Executor):
    """A pool of daemon threads, started on demand.

    ``ThreadPoolExecutor`` joins its threads at interpreter exit, so one handler stuck
    past the grace period would keep a stopping worker alive; its message is already
    back in the queue by then, so these threads are daemons and the process may go.

    Waking a sleeping thread per message is what a plain ``def`` handler costs most: a
    context switch, then a wait for the GIL the loop holds (0.85 switches per message
    in a drain). Work handed over by :meth:`call` therefore wakes a thread only when
    none is awake; a thread that finishes a handler takes the next queued one without
    sleeping. So that a handler blocked for long (a nested call, I/O) cannot hold up
    the work queued behind it, the loop checks every 2 ms while work waits and wakes
    one more thread whenever no queued handler started since the last check, and a
    handler waiting in ``msg.call``/``msg.cast`` lets another thread take over at once
    (:func:`handler_waits`): every message still gets a thread of its own when it
    needs one.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._work: collections.deque[Any] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._sleeping: list[threading.Lock] = []
        self._awake = 0
        self._started = 0
        self._lock = threading.Lock()
        self._shutdown = False
        self._completions: dict[asyncio.AbstractEventLoop, _Completions] = {}
        self._watching = False

    def call(self, fn: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` in a handler thread; the running loop's future for its result.

        Cancelling the future before a thread took the work skips it; a handler already
        running cannot be interrupted, and its result is then dropped.
        """
        loop = asyncio.get_running_loop()
        completions = self._completions.get(loop)
        if completions is None:
            completions = self._completions[loop] = _Completions(loop)
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._check_open()
            self._work.append((completions, future, fn, args))
            if self._awake == 0:
                self._wake_one()
            watch = not self._watching
            self._watching = True
        if watch:
            loop.call_later(_WATCH_INTERVAL, self._watch, loop, self._started)
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._check_open()
            self._work.append((None, future, fn, (args, kwargs)))
            self._wake_one()  # no loop to watch over it: a thread of its own at once
        return future

    def _check_open(self) -> None:
        if self._shutdown:
            raise RuntimeError("cannot run a handler after shutdown")

    def _wake_one(self) -> None:
        """Wake a sleeping thread, or start one (called with the lock held)."""
        if self._sleeping:
            self._awake += 1
            self._sleeping.pop().release()
        elif len(self._threads) < self.max_workers:
            self._awake += 1
            thread = threading.Thread(
                target=self._run, name=f"vincent-handler-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _waiting(self, change: int) -> None:
        with self._lock:
            self._awake -= change
            if change > 0 and self._work and self._awake == 0:
                self._wake_one()

    def _watch(self, loop: asyncio.AbstractEventLoop, started: int) -> None:
        with self._lock:
            if not self._work or self._shutdown:
                self._watching = False
                return
            if self._started == started:
                self._wake_one()  # nothing queued started: the awake threads are stuck
            started = self._started
        loop.call_later(_WATCH_INTERVAL, self._watch, loop, started)

    def _run(self) -> None:
        _local.pool = self
        wake = threading.Lock()
        wake.acquire()
        while True:
            with self._lock:
                if self._work:
                    item = self._work.popleft()
                    self._started += 1
                else:
                    item = None
                    self._awake -= 1
                    self._sleeping.append(wake)
            if item is None:
                wake.acquire()  # released by _wake_one, which counted us awake again
                continue
            if item is _STOP:
                return
            completions, future, fn, args = item
            if completions is None:
                self._run_submitted(future, fn, *args)
            elif not future.cancelled():
                try:
                    result = fn(*args)
                except BaseException as exc:
                    completions.add(future, False, exc)
                else:
                    completions.add(future, True, result)

    @staticmethod
    def _run_submitted(
        future: Future[Any], fn: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> None:
        if future.set_running_or_notify_cancel():
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
            if cancel_futures:
                while self._work:
                    self._work.popleft()[1].cancel()
            self._work.extend(_STOP for _ in threads)
            while self._sleeping:
                self._awake += 1
                self._sleeping.pop().release()
        if wait:
            for thread in threads:
                thread.join()
