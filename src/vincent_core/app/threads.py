"""The threads plain ``def`` handlers run in."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["HandlerThreads"]

T = TypeVar("T")
_STOP = object()


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
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shutdown = False
        self._completions: dict[asyncio.AbstractEventLoop, _Completions] = {}

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
        self._put((completions, future, fn, args))
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        self._put((None, future, fn, (args, kwargs)))
        return future

    def _put(self, item: tuple[_Completions | None, Any, Callable[..., Any], Any]) -> None:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot run a handler after shutdown")
            self._work.put(item)
            if self._idle == 0 and len(self._threads) < self.max_workers:
                thread = threading.Thread(
                    target=self._run, name=f"vincent-handler-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1 if self._idle else 0

    def _run(self) -> None:
        while True:
            item = self._work.get()
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
            with self._lock:
                self._idle += 1

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
            with contextlib.suppress(queue.Empty):
                while True:
                    item = self._work.get_nowait()
                    if item is not _STOP:
                        item[1].cancel()
        for _ in threads:
            self._work.put(_STOP)
        if wait:
            for thread in threads:
                thread.join()
