"""Handler threads hand results back to the loop in batches."""

from __future__ import annotations

import asyncio
import threading

import pytest

from vincent_core.app.threads import HandlerThreads, handler_waits


async def test_results_and_errors_come_back_to_the_loop() -> None:
    threads = HandlerThreads(4)
    try:
        results = await asyncio.gather(*(threads.call(pow, n, 2) for n in range(200)))
        assert results == [n * n for n in range(200)]
        with pytest.raises(ZeroDivisionError):
            await threads.call(divmod, 1, 0)
    finally:
        threads.shutdown()


async def test_work_cancelled_before_a_thread_takes_it_is_skipped() -> None:
    threads = HandlerThreads(1)
    gate = threading.Event()
    ran: list[int] = []
    try:
        first = threads.call(gate.wait)
        second = threads.call(ran.append, 2)
        second.cancel()
        gate.set()
        assert await first is True
        await threads.call(ran.append, 3)
        assert ran == [3]
    finally:
        threads.shutdown()


async def test_submit_still_works_as_an_executor() -> None:
    threads = HandlerThreads(2)
    try:
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(threads, sum, [1, 2, 3]) == 6
    finally:
        threads.shutdown()


async def test_a_blocked_handler_does_not_hold_up_the_work_behind_it() -> None:
    threads = HandlerThreads(4)
    gate = threading.Event()
    try:
        blocked = threads.call(gate.wait)
        assert await asyncio.wait_for(threads.call(pow, 6, 2), 2) == 36
        gate.set()
        assert await blocked is True
    finally:
        threads.shutdown()


async def test_a_handler_waiting_hands_its_turn_on_at_once() -> None:
    threads = HandlerThreads(4)
    loop = asyncio.get_running_loop()
    inner_done = threading.Event()

    def outer() -> bool:
        with handler_waits():
            # as msg.call does: wait for work that needs a thread of its own
            asyncio.run_coroutine_threadsafe(inner(), loop).result()
        return inner_done.is_set()

    async def inner() -> None:
        await threads.call(inner_done.set)

    try:
        assert await asyncio.wait_for(threads.call(outer), 2) is True
    finally:
        threads.shutdown()


def test_handler_waits_is_harmless_outside_handler_threads() -> None:
    with handler_waits():
        pass
