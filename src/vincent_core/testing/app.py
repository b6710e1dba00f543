"""``TestApp``: a user's app served on a private ``memory://`` broker, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any

from vincent_core.app.vincent import Vincent
from vincent_core.client import Client
from vincent_core.errors import ConfigurationError
from vincent_core.testing.records import DeadLetter, SentMessage
from vincent_core.transport.memory import (
    Activity,
    MemoryBroker,
    VirtualClock,
    broker_name,
    get_broker,
    reset_broker,
)
from vincent_core.wire.routing import topic_matches

__all__ = ["TestApp"]

#: seconds of real time a wait may take before it fails (generous: CI machines are slow)
DEFAULT_TIMEOUT = 10.0
# Waits are woken by the broker's activity; this re-check also catches conditions on
# state the broker does not see (a list a handler fills after its message was acked).
_RECHECK = 0.05


class TestApp:
    """Serve ``app`` on a ``memory://`` broker of its own, whose clock only moves when
    the test says so. The app's code is unchanged: whatever URL it was built with, it
    runs here on ``memory://``.

    ::

        async with TestApp(app) as t:
            assert await t.call("file.get", {"file": "hello.txt"}) == b"hello"
            await t.cast("file.encrypt", {"file": "hello.txt", "key_id": 1})
            await t.idle()                       # every message handled
            [event] = t.casts("file.encrypted")  # what the handlers cast
            await t.advance(4)                   # retry delays and TTLs, without sleeping
            assert t.dead_letters() == []

    Entering starts the app (its ``on_start`` hooks included) and waits until it is
    idle; leaving stops it gracefully and throws the broker away. ``url`` picks the
    broker (``memory://name``; by default a new, uniquely named one): give the URL your
    own code uses when it makes its own ``Client("memory://...")`` next to the app.
    Call timeouts are real time, as in production; only the broker's clock (message
    TTLs, retry delays) is virtual.
    """

    __test__ = False  # a helper, not a test class, whatever pytest's name rules say

    def __init__(
        self,
        app: Vincent,
        *,
        url: str | None = None,
        concurrency: int | None = None,
        grace: float = 5.0,
    ) -> None:
        if url is not None and not url.lower().startswith("memory://"):
            raise ConfigurationError(f"TestApp runs apps on memory:// only, not {url!r}")
        self.app = app
        self.url = url or f"memory://vincent-test-{uuid.uuid4().hex[:12]}"
        self.clock = VirtualClock()
        self._concurrency = concurrency
        self._grace = grace
        self._broker: MemoryBroker | None = None
        self._client: Client | None = None
        self._running: contextlib.AbstractAsyncContextManager[Client] | None = None
        self._unwatch: Callable[[], None] | None = None
        self._sent: list[SentMessage] = []
        self._sent_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> TestApp:
        """Start the app and wait until it is idle (``async with`` does it for you)."""
        name = broker_name(self.url)
        reset_broker(name)
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._broker = get_broker(name, clock=self.clock)
        self._unwatch = self._broker.watch(self._on_activity)
        self._running = self.app.running(
            url=self.url, concurrency=self._concurrency, grace=self._grace
        )
        try:
            self._client = await self._running.__aenter__()
            await self.idle()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """Stop the app (gracefully) and forget the broker."""
        running, self._running = self._running, None
        try:
            if running is not None:
                await running.__aexit__(None, None, None)
        finally:
            self._client = None
            if self._unwatch is not None:
                self._unwatch()
                self._unwatch = None
            reset_broker(broker_name(self.url))

    async def __aenter__(self) -> TestApp:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def client(self) -> Client:
        """The app's own client (the one its ``on_start`` hooks get)."""
        if self._client is None:
            raise RuntimeError("the TestApp is not running: use `async with TestApp(app)`")
        return self._client

    @property
    def broker(self) -> MemoryBroker:
        """The in-process broker the app runs on (peek at queues, bindings...)."""
        if self._broker is None:
            raise RuntimeError("the TestApp is not running: use `async with TestApp(app)`")
        return self._broker

    # -- sending -----------------------------------------------------------------------

    async def cast(self, key: str, body: Any = None, **options: Any) -> str:
        """``Client.cast`` to the app; returns the message id. Does not wait for the
        handler: ``await t.idle()`` does."""
        message_id: str = await self.client.cast(key, body, **options)
        return message_id

    async def call(self, key: str, body: Any = None, **options: Any) -> Any:
        """``Client.call`` to the app: the reply, or the error the caller would get
        (``RemoteError``, ``NoRoute``, ``Rejected``, ``CallTimeout``)."""
        return await self.client.call(key, body, **options)

    # -- what happened -----------------------------------------------------------------

    def _on_activity(self, activity: Activity) -> None:
        # Under the broker's lock, on the thread that published: note, then hand over.
        if activity.kind == "publish" and activity.envelope is not None:
            envelope = activity.envelope
            if activity.exchange == self.app.exchange:
                with self._sent_lock:
                    self._sent.append(SentMessage.from_envelope(envelope, routed=activity.routed))
        loop, changed = self._loop, self._changed
        if loop is not None and changed is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(changed.set)

    def sent(self, pattern: str = "#") -> list[SentMessage]:
        """Every cast and call request published to the app's exchange whose key
        matches ``pattern``, oldest first: by the test, by handlers, by hooks; routed
        or not (an event nobody listens to is still recorded)."""
        with self._sent_lock:
            return [message for message in self._sent if message.matches(pattern)]

    def casts(self, pattern: str = "#") -> list[SentMessage]:
        """The casts among :meth:`sent`: ``[c.body for c in t.casts("file.encrypted")]``."""
        return [message for message in self.sent(pattern) if not message.is_call]

    def calls(self, pattern: str = "#") -> list[SentMessage]:
        """The call requests among :meth:`sent` (nested calls made by handlers too)."""
        return [message for message in self.sent(pattern) if message.is_call]

    def clear(self) -> None:
        """Forget what was sent so far (dead letters stay in their queue)."""
        with self._sent_lock:
            self._sent.clear()

    def dead_letters(self, pattern: str = "#") -> list[DeadLetter]:
        """The messages in the app's dead-letter queue whose original key matches
        ``pattern``, oldest first. They stay there: this only looks."""
        queue = self.app.dead_letter_queue
        if queue not in self.broker.queue_names():
            return []
        letters = [DeadLetter.from_envelope(e) for e in self.broker.queue_messages(queue)]
        return [letter for letter in letters if topic_matches(pattern, letter.key)]

    def stats(self, key: str) -> Counter[str]:
        """The worker's counts for the listener of ``key``: ``handled``, ``failed``,
        ``retried``, ``dead``, ``expired``, ``rejected``."""
        worker = self.app.worker
        if worker is None:
            raise RuntimeError("the TestApp is not running: use `async with TestApp(app)`")
        stats = worker.stats()
        if key not in stats:
            raise KeyError(f"no listener for {key!r}; listeners: {', '.join(stats)}")
        return stats[key]

    # -- waiting and time --------------------------------------------------------------

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        what: str = "the condition",
    ) -> None:
        """Wait until ``condition()`` holds, re-checking whenever the broker does
        something; ``TimeoutError`` after ``timeout`` seconds of real time."""
        changed = self._changed
        if changed is None:
            raise RuntimeError("the TestApp is not running: use `async with TestApp(app)`")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed.clear()
            if condition():
                return
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"waited {timeout:g}s for {what}{self._pending_note()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(left, _RECHECK))

    async def idle(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every message that can be handled now has been: no delivery
        unsettled, nothing waiting in a queue that has a consumer. Messages waiting for
        time to pass (retry delays) or for a paused listener do not count."""

        def quiet() -> bool:
            return self.broker.work_pending() == 0

        await self.wait_until(quiet, timeout=timeout, what="the app to be idle")

    async def wait_for_casts(
        self, pattern: str, count: int = 1, *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[SentMessage]:
        """Wait until at least ``count`` casts matching ``pattern`` were made; returns
        all of them."""
        await self.wait_until(
            lambda: len(self.casts(pattern)) >= count,
            timeout=timeout,
            what=f"{count} cast(s) to {pattern!r}",
        )
        return self.casts(pattern)

    async def wait_for_handled(
        self, key: str, count: int = 1, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Counter[str]:
        """Wait until the listener of ``key`` handled ``count`` messages successfully
        (in all, since the app started); returns its :meth:`stats`."""
        stats = self.stats(key)
        await self.wait_until(
            lambda: stats["handled"] >= count,
            timeout=timeout,
            what=f"{count} message(s) handled by the listener of {key!r}",
        )
        return stats

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of broker time pass, handling what falls due on the way: a
        retry due in 1 s is handled, fails again, and its next retry, due 2 s later, is
        handled too within ``advance(3)``. Returns once the app is idle."""
        if seconds < 0:
            raise ValueError(f"time cannot go back ({seconds} s)")
        target = self.clock.now() + seconds
        await self.idle()
        while (due := self.clock.next_due()) is not None and due <= target:
            self.clock.advance(max(0.0, due - self.clock.now()))
            await self.idle()
        self.clock.advance(max(0.0, target - self.clock.now()))
        await self.idle()

    def _pending_note(self) -> str:
        broker = self._broker
        if broker is None:
            return ""
        busy = [
            f"{name} ({len(messages)} ready)"
            for name in broker.queue_names()
            if (messages := broker.queue_messages(name)) and name != self.app.dead_letter_queue
        ]
        note = f"; {broker.work_pending()} message(s) pending"
        return note + (f"; queues holding messages: {', '.join(busy)}" if busy else "")
