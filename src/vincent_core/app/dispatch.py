"""The one place where a handler's outcome becomes ack, reply, retry or dead letter.

Every delivery goes through two steps, and only these decide what happens to it:

1. :meth:`Dispatcher._decide` runs the handler and turns whatever happened into an
   :class:`Outcome`: the copies to publish (reply, retry, dead letter, hand-off) and
   whether the original is then acked or requeued. It never raises: an exception in
   the dispatcher itself, in a copy builder or in an exception's ``__str__`` becomes a
   dead letter saying so.
2. :meth:`Dispatcher._conclude` publishes the copies, each confirmed (and routed, for
   the ones addressed to a queue), and only then settles the original. A copy that
   cannot be placed yet (its queue was deleted and cannot be declared again, the broker
   nacks it, the publish channel is gone, no confirm within ``copy_timeout``) parks the
   original at the end of its queue and tries again later, with backoff; if even that
   fails, or the broker blocks publishing (a resource alarm), the original goes back to
   its queue after a bounded wait. Nothing returns without ack, requeue or dead letter
   while the delivery's channel lives (CONTRACT 6.2).

Order matters everywhere here: whatever must be published is confirmed *before* the
original is acked. A crash in between redelivers the message; it never loses it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vincent_core import observe
from vincent_core.app.listener import Listener, dead_letter_queue_spec
from vincent_core.app.threads import HandlerThreads
from vincent_core.app.typed import Refused, invalid_headers
from vincent_core.errors import (
    ConnectionLost,
    InvalidMessage,
    NoRoute,
    PublishFailed,
    Rejected,
)
from vincent_core.message import Message, RejectMessage, ThreadMessage
from vincent_core.observe import MessageOutcome
from vincent_core.transport.base import Delivery, QueueSpec
from vincent_core.wire.codec import UndecodableBody, decode_body
from vincent_core.wire.copies import cut_text, error_text, error_traceback, fit_frame
from vincent_core.wire.deadlines import is_expired
from vincent_core.wire.envelope import Envelope, new_id
from vincent_core.wire.failures import (
    DeadReason,
    attempts_of,
    build_dead_letter,
    build_handoff,
    build_parked,
    build_retry,
    next_retry_delay,
    parked_token,
    reject_is_final,
    rejected_by,
    restore_route,
)
from vincent_core.wire.replies import (
    REJECTED_TYPE,
    build_error_reply,
    build_ok_reply,
    error_type_name,
)
from vincent_core.wire.routing import retry_queue_name
from vincent_core.wire.trace import current_trace

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("vincent.worker")

#: how long a reply or copy may wait for its confirm (or for the connection to come
#: back) by default: ``Vincent(copy_timeout=...)``
COPY_TIMEOUT = 30.0
#: waits before a copy that could not be placed is tried again: 0.2 s doubling to 5 s
_BACKOFF_FIRST, _BACKOFF_MAX = 0.2, 5.0
#: parked outcomes remembered at most (older ones: the message is handled afresh)
_PARKED_LIMIT = 10_000
#: how much of an error a log line shows
_LOG_TEXT = 300

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


@dataclass(slots=True)
class Copy:
    """One message to publish before the original is settled."""

    envelope: Envelope
    what: str
    #: declared again when the copy comes back unroutable (its queue was deleted)
    queue: QueueSpec | None = None


@dataclass(slots=True)
class Outcome:
    """What becomes of one delivery: copies first, then ack (or requeue)."""

    counts: tuple[MessageOutcome, ...]
    copies: list[Copy] = field(default_factory=list)
    requeue: bool = False
    #: logged once the outcome is carried out
    note: str = ""
    level: int = logging.INFO
    #: how many times its copies could not be placed (parked outcomes)
    failures: int = 0
    #: monotonic time before which a parked outcome is not tried again
    not_before: float = 0.0


#: a cast handled: nothing to publish, nothing that can fail (shared, never changed)
_HANDLED = Outcome(("handled",))


def _describe(exc: BaseException) -> str:
    """``Type: message`` for a log line: never raises, never floods."""
    return f"{type(exc).__name__}: {cut_text(error_text(exc), _LOG_TEXT)}"


def _backoff(failures: int) -> float:
    return min(_BACKOFF_MAX, _BACKOFF_FIRST * 2.0 ** max(0, failures - 1))


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
        dead_letter_spec: QueueSpec | None = None,
        copy_timeout: float = COPY_TIMEOUT,
    ) -> None:
        self.listener = listener
        self.queue = queue
        self.client = client
        self.executor = executor
        self.dead_letter_queue = dead_letter_queue
        self.dead_letter_spec = dead_letter_spec or dead_letter_queue_spec(
            dead_letter_queue, [listener]
        )
        self.consumer_id = consumer_id
        self.copy_timeout = copy_timeout
        self.stats = stats
        self.on_settled = on_settled
        self.in_flight: dict[Delivery, asyncio.Task[Any]] = {}
        self.idle = asyncio.Event()
        self.idle.set()
        self._retry_queue_ready = False
        self._abandoned: set[Delivery] = set()
        self._settled: set[Delivery] = set()
        self._started: dict[Delivery, float] = {}
        self._parked: OrderedDict[str, Outcome] = OrderedDict()
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
            outcome = await self._decide(delivery)
            if outcome is not None and delivery not in self._abandoned:
                await self._conclude(delivery, outcome)
        except asyncio.CancelledError:
            # Grace period over: the message goes back to its queue untouched.
            await self._settle(delivery, requeue=True)
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

    def _who(self, envelope: Envelope) -> str:
        """``key message <id>``: how every log line names a message."""
        return f"{self.listener.key}: message {envelope.message_id or '(no id)'}"

    # -- step 1: the decision --------------------------------------------------------

    async def _decide(self, delivery: Delivery) -> Outcome | None:
        """The delivery's outcome; ``None`` when it was abandoned meanwhile."""
        try:
            return await self._outcome(delivery)
        except asyncio.CancelledError:
            raise
        except (ConnectionLost, PublishFailed) as exc:
            # The broker could not be asked (a passive declare for a reject): try later.
            return Outcome(
                (),
                requeue=True,
                note=f"could not be decided ({_describe(exc)}); back to its queue",
                level=logging.WARNING,
            )
        except Exception as exc:
            log.exception("%s: the dispatcher failed", self._who(delivery.envelope))
            return self._last_resort(delivery.envelope, exc)

    def _last_resort(self, envelope: Envelope, exc: BaseException) -> Outcome:
        """A dead letter for a message the dispatcher itself failed on; if even that
        cannot be built, back to the queue (after a wait, see :meth:`_conclude`)."""
        try:
            bare = envelope.with_changes(
                headers={"x-vincent-headers-dropped": "the original headers broke the copy"}
            )
            dead = build_dead_letter(
                bare,
                dead_letter_queue=self.dead_letter_queue,
                queue=self.queue,
                reason="error",
                attempts=attempts_of(envelope.headers),
                error=exc,
            )
            dead = fit_frame(dead, self.client.transport.frame_max)
            copies = [Copy(dead, "dead letter", self.dead_letter_spec)]
            if envelope.reply_to:
                copies.append(Copy(self._error_reply(envelope, exc), "error reply"))
        except Exception as again:  # the last resort must not raise
            return Outcome(
                (),
                requeue=True,
                failures=1,
                note=f"cannot even be dead-lettered ({_describe(again)}); back to its queue",
                level=logging.ERROR,
            )
        return Outcome(
            ("dead",),
            copies,
            note=f"dead-lettered to {self.dead_letter_queue} ({_describe(exc)})",
            level=logging.ERROR,
        )

    def _copy(self, envelope: Envelope) -> Envelope:
        return fit_frame(envelope, self.client.transport.frame_max)

    async def _outcome(self, delivery: Delivery) -> Outcome | None:
        token, envelope = parked_token(delivery.envelope, self.queue)
        if token is not None:
            parked = self._parked.pop(token, None)
            if parked is not None:
                wait = parked.not_before - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(min(wait, _BACKOFF_MAX))
                return parked
        envelope = delivery.envelope = restore_route(envelope, self.queue)
        listener = self.listener
        if len(envelope.body) > listener.max_body_size:
            size = len(envelope.body)
            return self._dead(
                envelope,
                "too-large",
                message=f"body of {size} bytes exceeds the limit of {listener.max_body_size}",
            )
        if is_expired(envelope.headers):
            return Outcome(("expired",), note="dropped: its deadline passed before it started")
        try:
            body = decode_body(envelope.body, envelope.content_type)
        except UndecodableBody as exc:
            return self._dead(envelope, "undecodable", message=error_text(exc))
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
            return await self._rejected(envelope, error_text(reject))
        except Refused as refused:  # a typed handler's body (or reply) did not match
            return self._refused(envelope, refused.error)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a handler's SystemExit fails it too
            if isinstance(exc, KeyboardInterrupt):
                raise
            return self._failed(envelope, exc)
        if delivery in self._abandoned:
            return None
        if not expects_reply:
            return _HANDLED
        try:
            reply = build_ok_reply(envelope, result)
        except Exception as exc:  # EncodeError, or a bug in the value
            # The handler ran but its value cannot travel: the caller must hear so.
            return self._failed(envelope, exc)
        return Outcome(("handled",), [Copy(reply, "reply")])

    def _error_reply(self, envelope: Envelope, exc: BaseException) -> Envelope:
        return build_error_reply(
            envelope,
            type=error_type_name(exc),
            message=error_text(exc),
            traceback=error_traceback(exc),
        )

    def _failed(self, envelope: Envelope, exc: BaseException, *, retry: bool = True) -> Outcome:
        """A handler raised ``exc``: an error reply for a call; for a cast a retry while
        ``retry`` and retries are left, else a dead letter."""
        if envelope.reply_to:
            return Outcome(
                ("failed",),
                [Copy(self._error_reply(envelope, exc), "error reply")],
                note=f"handler raised {_describe(exc)} (error reply sent)",
            )
        attempts = attempts_of(envelope.headers) + 1
        delay = next_retry_delay(attempts, self.listener.retries, self.listener.retry_delays)
        if delay is None or not retry:
            dead = self._dead(envelope, "error", error=exc, attempts=attempts)
            dead.counts = ("failed", "dead")
            dead.note = f"handler raised {_describe(exc)}; {dead.note} after {attempts} attempts"
            return dead
        retry_queue = retry_queue_name(self.queue)
        return Outcome(
            ("failed", "retried"),
            [
                Copy(
                    self._copy(build_retry(envelope, self.queue, delay, attempts)),
                    "retry",
                    self._retry_spec(retry_queue),
                )
            ],
            note=(
                f"handler raised {_describe(exc)}; retry {attempts}/{self.listener.retries}"
                f" in {delay:g}s"
            ),
            level=logging.WARNING,
        )

    def _refused(self, envelope: Envelope, error: InvalidMessage) -> Outcome:
        """An invalid call gets an error reply listing the fields; an invalid cast is
        dead-lettered at once (retrying cannot make it valid)."""
        note = f"refused: {cut_text(error_text(error), _LOG_TEXT)}"
        if not envelope.reply_to:
            dead = self._dead(envelope, "invalid", headers=invalid_headers(error))
            dead.note = f"{note}; {dead.note}"
            dead.level = logging.INFO
            return dead
        reply = build_error_reply(
            envelope, type=error.type, message=error.message, traceback="", errors=error.errors
        )
        return Outcome(("failed",), [Copy(reply, "error reply")], note=note)

    def _retry_spec(self, name: str) -> QueueSpec:
        exclusive = self.listener.route_to == "all"
        return QueueSpec(
            name,
            durable=not exclusive,
            exclusive=exclusive,
            arguments={
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue,
                **self.listener.helper_queue_arguments(),
            },
        )

    async def _rejected(self, envelope: Envelope, reason: str) -> Outcome:
        rejecters = [*rejected_by(envelope.headers), self.consumer_id]
        consumers = 1
        if self.listener.route_to != "all":
            info = await self.client.transport.inspect_queue(self.queue)
            consumers = info.consumers if info is not None else 1
        if not reject_is_final(rejecters, consumers):
            handoff = self._copy(build_handoff(envelope, self.queue, rejecters))
            return Outcome(("rejected",), [Copy(handoff, "hand-off")])
        why = reason or f"rejected by {len(set(rejecters))} consumer(s)"
        if envelope.reply_to:
            reply = build_error_reply(envelope, type=REJECTED_TYPE, message=why, traceback="")
            return Outcome(
                ("rejected",),
                [Copy(reply, "error reply")],
                note=error_text(Rejected(self.listener.key, cut_text(why, _LOG_TEXT))),
            )
        dead = self._dead(envelope, "rejected", message=why, attempts=len(rejecters))
        dead.counts = ("rejected", "dead")
        return dead

    def _dead(
        self,
        envelope: Envelope,
        reason: DeadReason,
        *,
        error: BaseException | None = None,
        message: str | None = None,
        attempts: int | None = None,
        headers: dict[str, Any] | None = None,
    ) -> Outcome:
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
        copies = [Copy(self._copy(dead), "dead letter", self.dead_letter_spec)]
        if envelope.reply_to and reason in ("undecodable", "too-large"):
            reply = build_error_reply(
                envelope, type=f"vincent.{reason}", message=message or reason, traceback=""
            )
            copies.append(Copy(reply, "error reply"))
        why = f": {cut_text(message, _LOG_TEXT)}" if message and error is None else ""
        return Outcome(
            ("dead",),
            copies,
            note=f"dead-lettered to {self.dead_letter_queue} ({reason}{why})",
            level=logging.WARNING if error is None else logging.ERROR,
        )

    # -- step 2: carrying it out -----------------------------------------------------

    async def _conclude(self, delivery: Delivery, outcome: Outcome) -> None:
        """Publish the outcome's copies, then settle the original: the only place that
        does. Never raises (but ``CancelledError``)."""
        envelope = delivery.envelope
        try:
            while outcome.copies:
                await self._place(outcome.copies[0])
                # Placed: a parked outcome tries again only what is left.
                del outcome.copies[0]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever it is, the message must end
            await self._defer(delivery, outcome, exc)
            return
        if outcome.requeue:
            # Nothing could be decided or built: back to the queue, after a wait so that
            # the same failure does not spin.
            await asyncio.sleep(_backoff(outcome.failures + 1))
            await self._settle(delivery, requeue=True)
        else:
            await self._settle(delivery)
        for count in outcome.counts:
            self._count(delivery, count)
        if outcome.note:
            log.log(outcome.level, "%s %s", self._who(envelope), outcome.note)

    async def _place(self, copy: Copy) -> None:
        """Publish one copy, confirmed; routed too when it is addressed to a queue."""
        transport = self.client.transport
        # Replies go to direct reply-to, never mandatory: RabbitMQ 3.10 both delivers
        # and returns a mandatory publish to a reply-to address.
        mandatory = copy.what not in ("reply", "error reply")
        if copy.queue is not None and copy.what == "retry" and not self._retry_queue_ready:
            await transport.declare_queue(copy.queue)
            self._retry_queue_ready = True
        try:
            await transport.publish(copy.envelope, mandatory=mandatory, timeout=self.copy_timeout)
        except NoRoute:
            if copy.queue is None:
                raise
            # Someone deleted the queue (an operator, a policy): declare it again.
            log.warning("%s queue %r was missing: declared it again", copy.what, copy.queue.name)
            await transport.declare_queue(copy.queue)
            await transport.publish(copy.envelope, mandatory=True, timeout=self.copy_timeout)

    async def _defer(self, delivery: Delivery, outcome: Outcome, exc: Exception) -> None:
        """A copy could not be placed: park the original at the end of its queue with
        its outcome remembered, or, if that fails too, requeue it after a wait."""
        envelope = delivery.envelope
        outcome.failures += 1
        wait = _backoff(outcome.failures)
        what = outcome.copies[0].what if outcome.copies else "copy"
        if self.client.state == "blocked":
            # A resource alarm: the parked copy would wait out its confirm as this one
            # did (and, let through once the alarm clears, run the handler once more).
            # Back to the queue: the broker hands it out again, and past a call's
            # deadline the next run drops it as expired.
            log.warning(
                "%s: could not publish its %s (%s); the broker blocks publishing (a"
                " resource alarm): back to its queue in %gs",
                self._who(envelope),
                what,
                _describe(exc),
                wait,
            )
            await asyncio.sleep(wait)
            await self._settle(delivery, requeue=True)
            return
        log.warning(
            "%s: could not publish its %s (%s); trying again in %gs, meanwhile the listener"
            " goes on",
            self._who(envelope),
            what,
            _describe(exc),
            wait,
        )
        token = new_id()
        outcome.not_before = time.monotonic() + wait
        self._parked[token] = outcome
        while len(self._parked) > _PARKED_LIMIT:
            self._parked.popitem(last=False)
        try:
            parked = self._copy(build_parked(envelope, self.queue, token))
            await self.client.transport.publish(parked, mandatory=True, timeout=self.copy_timeout)
        except asyncio.CancelledError:
            self._parked.pop(token, None)
            raise
        except Exception as again:
            self._parked.pop(token, None)
            log.warning(
                "%s: could not park it either (%s); back to its queue in %gs",
                self._who(envelope),
                _describe(again),
                wait,
            )
            # Holding the message this long is what keeps the failure from spinning; a
            # lost channel makes this reject a no-op and the broker redelivers anyway.
            await asyncio.sleep(wait)
            await self._settle(delivery, requeue=True)
            return
        await self._settle(delivery)
