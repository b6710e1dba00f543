"""The one place where a handler's outcome becomes ack, reply, retry or dead letter.

Order matters everywhere here: whatever must be published (reply, retry copy, dead
letter, hand-off) is published and confirmed *before* the original is acked. A crash
in between redelivers the message; it never loses it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vincent_core import observe
from vincent_core.app.listener import Listener
from vincent_core.app.threads import HandlerThreads
from vincent_core.app.typed import Refused, invalid_headers
from vincent_core.errors import EncodeError, InvalidMessage, Rejected, VincentError
from vincent_core.message import Message, RejectMessage, ThreadMessage
from vincent_core.observe import MessageOutcome
from vincent_core.transport.base import Delivery, QueueSpec
from vincent_core.wire.codec import UndecodableBody, decode_body
from vincent_core.wire.deadlines import is_expired
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.failures import (
    DeadReason,
    attempts_of,
    build_dead_letter,
    build_handoff,
    build_retry,
    next_retry_delay,
    reject_is_final,
    rejected_by,
    restore_route,
)
from vincent_core.wire.replies import REJECTED_TYPE, build_error_reply, build_ok_reply
from vincent_core.wire.routing import retry_queue_name
from vincent_core.wire.trace import current_trace

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["Dispatcher"]

log = logging.getLogger("vincent.worker")

if sys.version_info >= (3, 12):
    _current_task = asyncio.current_task
else:
    # Python 3.11's asyncio.current_task() is written in Python and calls
    # get_running_loop() (and with it getpid()) on every message: 14 % of a drain's
    # samples. The registry it reads is the C one the loop maintains.
    _tasks_by_loop: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]] = (
        asyncio.tasks._current_tasks  # type: ignore[attr-defined]
    )

    def _current_task(loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any] | None:
        return _tasks_by_loop.get(loop)


class Dispatcher:
    """Runs one listener's handler for each delivery and settles the delivery."""

    def __init__(
        self,
        listener: Listener,
        queue: str,
        client: Client,
        executor: HandlerThreads,
        *,
        dead_letter_queue: str,
        consumer_id: str,
        stats: Counter[str],
        on_settled: Callable[[Listener], None] | None = None,
    ) -> None:
        self.listener = listener
        self.queue = queue
        self.client = client
        self.executor = executor
        self.dead_letter_queue = dead_letter_queue
        self.consumer_id = consumer_id
        self.stats = stats
        self.on_settled = on_settled
        self.in_flight: dict[Delivery, asyncio.Task[Any]] = {}
        self.idle = asyncio.Event()
        self.idle.set()
        self._retry_queue_ready = False
        self._abandoned: set[Delivery] = set()
        self._settled: set[Delivery] = set()
        self._started: dict[Delivery, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- entry point -----------------------------------------------------------------

    def _count(self, delivery: Delivery, outcome: MessageOutcome) -> None:
        self.stats[outcome] += 1
        watcher = observe.observer
        if watcher is not None:
            started = self._started.get(delivery, time.monotonic())
            watcher.message(self.listener.key, outcome, time.monotonic() - started)

    async def __call__(self, delivery: Delivery) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        task = _current_task(loop)
        assert task is not None
        self.in_flight[delivery] = task
        self.idle.clear()
        self._started[delivery] = time.monotonic()
        watcher = observe.observer
        if watcher is not None:
            watcher.in_flight(self.listener.key, 1)
        try:
            await self._dispatch(delivery)
        except asyncio.CancelledError:
            # Grace period over: the message goes back to its queue untouched.
            await self._settle(delivery, requeue=True)
        except VincentError as exc:
            # Could not publish the reply / retry / dead letter (broker gone): leave the
            # message unacked so the broker redelivers it; never ack unsafely.
            log.warning("%s: %s; the message stays in %r", self.listener.key, exc, self.queue)
        finally:
            self.in_flight.pop(delivery, None)
            self._started.pop(delivery, None)
            if observe.observer is not None:
                observe.observer.in_flight(self.listener.key, -1)
            self._settled.discard(delivery)
            self._abandoned.discard(delivery)
            if not self.in_flight:
                self.idle.set()
            if self.on_settled is not None:
                self.on_settled(self.listener)

    def running_longer_than(self, seconds: float) -> list[tuple[Delivery, float]]:
        """The deliveries whose handlers have run for more than ``seconds``, with ages."""
        now = time.monotonic()
        return [(d, now - t) for d, t in list(self._started.items()) if now - t > seconds]

    async def abandon(self) -> None:
        """Return every unfinished message to the queue (end of the grace period)."""
        for delivery, task in list(self.in_flight.items()):
            self._abandoned.add(delivery)
            task.cancel()
            await self._settle(delivery, requeue=True)

    async def _settle(self, delivery: Delivery, *, requeue: bool | None = None) -> None:
        """Ack (``requeue=None``) or reject the delivery, exactly once."""
        if delivery in self._settled:
            return
        self._settled.add(delivery)
        if requeue is None:
            await delivery.ack()
        else:
            await delivery.reject(requeue=requeue)

    # -- the decision ----------------------------------------------------------------

    async def _dispatch(self, delivery: Delivery) -> None:
        envelope = delivery.envelope = restore_route(delivery.envelope)
        listener = self.listener
        if len(envelope.body) > listener.max_body_size:
            size = len(envelope.body)
            await self._dead(
                delivery,
                "too-large",
                message=f"body of {size} bytes exceeds the limit of {listener.max_body_size}",
            )
            return
        if is_expired(envelope.headers):
            self._count(delivery, "expired")
            log.info(
                "%s: dropped message %s: its deadline passed before it started",
                listener.key,
                envelope.message_id,
            )
            await self._settle(delivery)
            return
        try:
            body = decode_body(envelope.body, envelope.content_type)
        except UndecodableBody as exc:
            log.warning(
                "%s: undecodable message %s sent to %s: %s",
                listener.key,
                envelope.message_id,
                self.dead_letter_queue,
                exc,
            )
            await self._dead(delivery, "undecodable", message=str(exc))
            return
        expects_reply = bool(envelope.reply_to)
        is_async, runner = listener.plan(expects_reply)
        try:
            if is_async:
                message = Message(
                    envelope, body, redelivered=delivery.redelivered, client=self.client
                )
                # Each delivery runs in its own task: the variable is scoped to this message
                # (for logs, and for Clients used directly inside the handler).
                current_trace.set(message.trace.child(message.key))
                result = await runner(message)
            else:
                loop = asyncio.get_running_loop()
                message = ThreadMessage(
                    envelope, body, redelivered=delivery.redelivered, client=self.client, loop=loop
                )
                current_trace.set(message.trace.child(message.key))
                context = contextvars.copy_context()
                result = await self.executor.call(context.run, runner, message)
        except RejectMessage as reject:
            await self._rejected(delivery, str(reject))
            return
        except Refused as refused:  # a typed handler's body (or reply) did not match
            await self._refused(delivery, refused.error)
            return
        except Exception as exc:
            await self._failed(delivery, exc)
            return
        if delivery in self._abandoned:
            return
        if expects_reply:
            try:
                reply = build_ok_reply(envelope, result)
            except EncodeError as exc:
                # The handler ran but its value cannot travel: the caller must hear so.
                await self._failed(delivery, exc)
                return
            await self._reply(reply)
        self._count(delivery, "handled")
        await self._settle(delivery)

    async def _reply(self, reply: Envelope) -> None:
        # Never mandatory: RabbitMQ 3.10 both delivers and returns a mandatory publish to
        # a direct reply-to address.
        await self.client.transport.publish(reply, mandatory=False)

    async def _failed(self, delivery: Delivery, exc: Exception) -> None:
        envelope = delivery.envelope
        key = self.listener.key
        self._count(delivery, "failed")
        if envelope.reply_to:
            log.info("%s: handler raised %s: %s (error reply sent)", key, type(exc).__name__, exc)
            await self._reply(build_error_reply(envelope, exc))
            await self._settle(delivery)
            return
        attempts = attempts_of(envelope.headers) + 1
        delay = next_retry_delay(attempts, self.listener.retries, self.listener.retry_delays)
        if delay is None:
            log.error(
                "%s: handler raised %s: %s; dead-lettered after %d attempts",
                key,
                type(exc).__name__,
                exc,
                attempts,
            )
            await self._dead(delivery, "error", error=exc, attempts=attempts)
            return
        log.warning(
            "%s: handler raised %s: %s; retry %d/%d in %gs",
            key,
            type(exc).__name__,
            exc,
            attempts,
            self.listener.retries,
            delay,
        )
        await self._ensure_retry_queue()
        await self.client.transport.publish(build_retry(envelope, self.queue, delay, attempts))
        self._count(delivery, "retried")
        await self._settle(delivery)

    async def _refused(self, delivery: Delivery, error: InvalidMessage) -> None:
        """An invalid call gets an error reply listing the fields; an invalid cast is
        dead-lettered at once (retrying cannot make it valid)."""
        envelope = delivery.envelope
        log.info("%s: message %s refused: %s", self.listener.key, envelope.message_id, error)
        if not envelope.reply_to:
            await self._dead(delivery, "invalid", headers=invalid_headers(error))
            return
        self._count(delivery, "failed")
        reply = build_error_reply(
            envelope, type=error.type, message=error.message, traceback="", errors=error.errors
        )
        await self._reply(reply)
        await self._settle(delivery)

    async def _ensure_retry_queue(self) -> None:
        if self._retry_queue_ready:
            return
        exclusive = self.listener.route_to == "all"
        await self.client.transport.declare_queue(
            QueueSpec(
                retry_queue_name(self.queue),
                durable=not exclusive,
                exclusive=exclusive,
                arguments={
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue,
                    **self.listener.helper_queue_arguments(),
                },
            )
        )
        self._retry_queue_ready = True

    async def _rejected(self, delivery: Delivery, reason: str) -> None:
        envelope = delivery.envelope
        self._count(delivery, "rejected")
        rejecters = [*rejected_by(envelope.headers), self.consumer_id]
        consumers = 1
        if self.listener.route_to != "all":
            info = await self.client.transport.inspect_queue(self.queue)
            consumers = info.consumers if info is not None else 1
        if not reject_is_final(rejecters, consumers):
            await self.client.transport.publish(build_handoff(envelope, self.queue, rejecters))
            await self._settle(delivery)
            return
        why = reason or f"rejected by {len(set(rejecters))} consumer(s)"
        if envelope.reply_to:
            error = Rejected(self.listener.key, why)
            await self._reply(
                build_error_reply(envelope, type=REJECTED_TYPE, message=why, traceback="")
            )
            log.info("%s: %s", self.listener.key, error)
            await self._settle(delivery)
            return
        await self._dead(delivery, "rejected", message=why, attempts=len(rejecters))

    async def _dead(
        self,
        delivery: Delivery,
        reason: DeadReason,
        *,
        error: BaseException | None = None,
        message: str | None = None,
        attempts: int | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        envelope = delivery.envelope
        dead = build_dead_letter(
            envelope,
            dead_letter_queue=self.dead_letter_queue,
            queue=self.queue,
            reason=reason,
            attempts=attempts if attempts is not None else attempts_of(envelope.headers),
            error=error,
            message=message,
            extra_headers=headers,
        )
        await self.client.transport.publish(dead)
        if envelope.reply_to and reason in ("undecodable", "too-large"):
            await self._reply(
                build_error_reply(
                    envelope, type=f"vincent.{reason}", message=message or reason, traceback=""
                )
            )
        self._count(delivery, "dead")
        await self._settle(delivery)
