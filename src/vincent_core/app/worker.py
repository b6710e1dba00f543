"""A running worker: declares the listeners' queues, consumes, pauses, stops gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field

from vincent_core.app.dispatch import COPY_TIMEOUT, Dispatcher
from vincent_core.app.listener import Listener, dead_letter_queue_spec
from vincent_core.app.threads import HandlerThreads
from vincent_core.client import Client
from vincent_core.transport.base import Subscription

__all__ = ["Worker"]

log = logging.getLogger("vincent.worker")


@dataclass(eq=False)
class _Running:
    listener: Listener
    queue: str
    dispatcher: Dispatcher
    prefetch: int
    subscription: Subscription | None = None
    stats: Counter[str] = field(default_factory=Counter)
    checking: bool = False


class Worker:
    """Consumes every listener of an app through one client connection.

    ``start()`` declares and consumes; ``stop(grace)`` stops consuming at once, waits up
    to ``grace`` seconds for handlers in flight (their acks and replies included), then
    returns whatever is still unfinished to its queue.
    """

    def __init__(
        self,
        client: Client,
        listeners: list[Listener],
        *,
        dead_letter_queue: str,
        concurrency: int,
        consumer_timeout: float = 1800.0,
        copy_timeout: float = COPY_TIMEOUT,
    ) -> None:
        self.client = client
        self.listeners = listeners
        self.dead_letter_queue = dead_letter_queue
        self.concurrency = concurrency
        self.consumer_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        sync_slots = sum(
            (lst.concurrency or concurrency)
            for lst in listeners
            if not (lst.plan(False)[0] and lst.plan(True)[0])
        )
        # Every sync handler may block in a nested call while another one serves it:
        # give each prefetch slot its own thread so a call chain cannot deadlock.
        self.executor = HandlerThreads(max(4, sync_slots * 2))
        self.running: list[_Running] = []
        self.consumer_timeout = consumer_timeout
        self.copy_timeout = copy_timeout
        self._warned: set[object] = set()
        self._active_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Declare the exchange, the dead-letter queue and every listener's queue."""
        transport = self.client.transport
        dead_letters = dead_letter_queue_spec(self.dead_letter_queue, self.listeners)
        await transport.declare_queue(dead_letters)
        for listener in self.listeners:
            queue = listener.queue_name()
            await transport.declare_queue(listener.queue_spec(queue, self.dead_letter_queue))
            await transport.bind(queue, self.client.exchange, listener.key)
            stats: Counter[str] = Counter()
            dispatcher = Dispatcher(
                listener,
                queue,
                self.client,
                self.executor,
                dead_letter_queue=self.dead_letter_queue,
                consumer_id=self.consumer_id,
                stats=stats,
                on_settled=self._after_message,
                dead_letter_spec=dead_letters,
                copy_timeout=self.copy_timeout,
            )
            running = _Running(
                listener, queue, dispatcher, listener.concurrency or self.concurrency, stats=stats
            )
            self.running.append(running)
            if await self._is_active(running):
                await self._consume(running)
            else:
                log.warning("%s: inactive at start; not consuming from %r", listener.key, queue)
        loop = asyncio.get_running_loop()
        if any(r.listener.active is not None for r in self.running):
            self._active_task = loop.create_task(self._watch_active())
        self._watchdog = loop.create_task(self._watch_long_handlers())

    async def _consume(self, running: _Running) -> None:
        running.subscription = await self.client.transport.consume(
            running.queue, running.dispatcher, prefetch=running.prefetch
        )

    async def _is_active(self, running: _Running) -> bool:
        check = running.listener.active
        if check is None:
            return True
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            return bool(result)
        except Exception:
            log.exception(
                "%s: the active check raised; treating it as inactive", running.listener.key
            )
            return False

    async def _recheck(self, running: _Running) -> None:
        if self._stopping or running.checking:
            return
        running.checking = True
        try:
            active = await self._is_active(running)
            if self.stopping:
                return
            if active and running.subscription is None:
                log.warning(
                    "%s: active again; consuming from %r", running.listener.key, running.queue
                )
                await self._consume(running)
            elif not active and running.subscription is not None:
                log.warning(
                    "%s: inactive; stopped consuming from %r so others take the work",
                    running.listener.key,
                    running.queue,
                )
                subscription, running.subscription = running.subscription, None
                await subscription.cancel()
        finally:
            running.checking = False

    def _after_message(self, listener: Listener) -> None:
        if listener.active is None or self._stopping:
            return
        for running in self.running:
            if running.listener is listener:
                asyncio.get_running_loop().create_task(self._recheck(running))

    async def _watch_active(self) -> None:
        watched = [r for r in self.running if r.listener.active is not None]
        interval = min(r.listener.active_interval for r in watched)
        while not self._stopping:
            await asyncio.sleep(interval)
            for running in watched:
                with contextlib.suppress(Exception):
                    await self._recheck(running)

    async def _watch_long_handlers(self) -> None:
        # RabbitMQ closes the channel of a consumer that holds a message unacked for
        # longer than its consumer_timeout (30 min by default): the message is then
        # redelivered while the handler still runs. Say so before it happens.
        limit = self.consumer_timeout * 0.8
        while not self._stopping:
            await asyncio.sleep(min(30.0, max(0.05, limit / 4)))
            for running in self.running:
                for delivery, age in running.dispatcher.running_longer_than(limit):
                    if delivery in self._warned:
                        continue
                    self._warned.add(delivery)
                    log.warning(
                        "%s: a handler has run for %.0fs, close to the broker's consumer_timeout"
                        " of %.0fs; past it RabbitMQ redelivers the message to another worker",
                        running.listener.key,
                        age,
                        self.consumer_timeout,
                    )
            self._warned &= {d for r in self.running for d in r.dispatcher.in_flight}

    def stats(self) -> dict[str, Counter[str]]:
        """Messages handled, failed, retried, dead, expired and rejected, per key."""
        return {r.listener.key: r.stats for r in self.running}

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` began."""
        return self._stopping

    async def stop(self, grace: float = 30.0) -> bool:
        """Stop consuming now; let handlers finish within ``grace`` seconds.

        The grace counts from this call, the consumer cancels included: a broker that
        does not answer them (frozen, blocked) cannot stretch it. Returns True when
        everything in flight finished in time; unfinished messages are returned to
        their queues (never lost).
        """
        loop = asyncio.get_running_loop()
        ends = loop.time() + grace
        self._stopping = True
        for task in (self._active_task, self._watchdog):
            if task is not None:
                task.cancel()
        cancels = []
        for running in self.running:
            subscription, running.subscription = running.subscription, None
            if subscription is not None:
                cancels.append(subscription.cancel())
        if cancels:
            # Side by side, so that one slow cancel does not hold the others.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(ends):
                    await asyncio.gather(*cancels, return_exceptions=True)
        waits = [r.dispatcher.idle.wait() for r in self.running]
        finished = True
        if waits:
            try:
                async with asyncio.timeout_at(ends):
                    await asyncio.gather(*waits)
            except TimeoutError:
                finished = False
                pending = sum(len(r.dispatcher.in_flight) for r in self.running)
                log.warning(
                    "grace period of %gs over: returning %d unfinished message(s) to their queues",
                    grace,
                    pending,
                )
                for running in self.running:
                    with contextlib.suppress(Exception, TimeoutError):
                        async with asyncio.timeout(1.0):
                            await running.dispatcher.abandon()
        # Threads still running a handler past the grace period must not hold the process:
        # their messages are already back in the queue.
        self.executor.shutdown(wait=False, cancel_futures=True)
        return finished
