"""The application object: listeners, hooks, and running them."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from vincent_core.app.dispatch import COPY_TIMEOUT
from vincent_core.app.listener import (
    DEFAULT_MAX_BODY_SIZE,
    ActiveCheck,
    Handler,
    Listener,
    QueueType,
    Route,
)
from vincent_core.app.service import Service, listener_for_service
from vincent_core.app.worker import Worker
from vincent_core.client import Client
from vincent_core.config import DEFAULT_DEAD_LETTER_QUEUE, resolve_exchange, resolve_url
from vincent_core.errors import ConfigurationError
from vincent_core.wire.failures import DEFAULT_RETRY_DELAYS
from vincent_core.wire.routing import RouteTo

__all__ = ["Vincent"]

log = logging.getLogger("vincent")
Hook = Callable[[Client], Awaitable[None] | None]
H = TypeVar("H", bound=Handler)
HookT = TypeVar("HookT", bound=Hook)
S = TypeVar("S", bound=type[Service])

DEFAULT_CONCURRENCY = 32


class Vincent:
    """A vincent application: the listeners a worker process serves.

    ::

        app = Vincent()          # VINCENT_BROKER_URL, else AMQP_URL, else localhost

        @app.listen("file.get")
        def get(msg: Message) -> bytes:
            return pathlib.Path(msg["file"]).read_bytes()

        if __name__ == "__main__":
            app.run()            # or: vincent serve myapp:app
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        exchange: str | None = None,
        dead_letter_queue: str = DEFAULT_DEAD_LETTER_QUEUE,
        concurrency: int = DEFAULT_CONCURRENCY,
        consumer_timeout: float = 1800.0,
        copy_timeout: float = COPY_TIMEOUT,
    ) -> None:
        if copy_timeout <= 0:
            raise ConfigurationError(f"copy_timeout must be positive, not {copy_timeout!r}")
        self.url = resolve_url(url)
        self.exchange = resolve_exchange(exchange)
        self.dead_letter_queue = dead_letter_queue
        self.concurrency = concurrency
        #: the broker's consumer_timeout in seconds (RabbitMQ's default: 30 min); a
        #: handler running past 80% of it is logged
        self.consumer_timeout = consumer_timeout
        #: how long a reply, retry copy, dead letter or hand-off may wait for its confirm
        #: (30 s): past it the message goes back to its queue (or is parked) instead of
        #: being held while the broker blocks publishing
        self.copy_timeout = copy_timeout
        self.listeners: list[Listener] = []
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []
        #: the loop time of the stop signal, while serve() stops: the grace counts from it
        self._signalled_at: float | None = None
        self.worker: Worker | None = None
        self.client: Client | None = None

    # -- declaring -------------------------------------------------------------------

    def listen(
        self,
        key: str,
        *,
        queue: str | None = None,
        route_to: RouteTo = "one",
        ttl: float | None = None,
        retries: int = 3,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        concurrency: int | None = None,
        active: ActiveCheck | None = None,
        active_interval: float = 5.0,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        queue_type: QueueType = "classic",
        delivery_limit: int = 20,
    ) -> Callable[[H], H]:
        """Register the decorated function (``async def`` or plain ``def``) for ``key``.

        ``key`` may be a topic pattern (``file.*``, ``audit.#``). The return value is the
        reply to a call. ``queue_type="quorum"`` declares a replicated quorum queue whose
        broker-side ``delivery_limit`` dead-letters a message that keeps coming back
        (a worker crashing on it). See docs/api.md for every option.
        """

        def register(handler: H) -> H:
            self.listeners.append(
                Listener(
                    key,
                    handler,
                    queue=queue,
                    route_to=route_to,
                    ttl=ttl,
                    retries=retries,
                    retry_delays=tuple(retry_delays),
                    concurrency=concurrency,
                    active=active,
                    active_interval=active_interval,
                    max_body_size=max_body_size,
                    queue_type=queue_type,
                    delivery_limit=delivery_limit,
                )
            )
            return handler

        return register

    def include(self, service: S, **options: Any) -> S:
        """Serve a :class:`Service` subclass; ``options`` override its class attributes."""
        self.listeners.append(listener_for_service(service, **options))
        return service

    def on_start(self, hook: HookT) -> HookT:
        """Run ``hook(client)`` once the workers consume (it may cast and call)."""
        self._on_start.append(hook)
        return hook

    def on_stop(self, hook: HookT) -> HookT:
        """Run ``hook(client)`` when the app stops, before the connection closes."""
        self._on_stop.append(hook)
        return hook

    def routes(self) -> list[Route]:
        """Every listener: key, queue, route_to, handler."""
        return [listener.route() for listener in self.listeners]

    # -- running ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(
        self,
        *,
        url: str | None = None,
        exchange: str | None = None,
        concurrency: int | None = None,
        grace: float = 30.0,
    ) -> AsyncIterator[Client]:
        """Serve the listeners for the duration of the block; yields the app's client.

        ::

            async with app.running() as client:
                assert await client.call("file.get", {"file": "/etc/hostname"})
        """
        if not self.listeners and not self._on_start:
            raise ConfigurationError("the app has no listeners")
        client = Client(url or self.url, exchange=self.exchange if exchange is None else exchange)
        await client.connect()
        worker = Worker(
            client,
            self.listeners,
            dead_letter_queue=self.dead_letter_queue,
            concurrency=concurrency or self.concurrency,
            consumer_timeout=self.consumer_timeout,
            copy_timeout=self.copy_timeout,
        )
        self.client, self.worker = client, worker
        try:
            await worker.start()
            for hook in self._on_start:
                await _call_hook(hook, client)
            yield client
        finally:
            # The grace counts from the signal (serve() notes when it came), and the
            # whole stop ends within grace + 5 s whatever the broker does: the hooks get
            # until grace + 2 s, the connection's close the rest.
            loop = asyncio.get_running_loop()
            since = self._signalled_at if self._signalled_at is not None else loop.time()
            ends = since + grace
            await worker.stop(max(0.0, ends - loop.time()))
            for hook in self._on_stop:
                try:
                    async with asyncio.timeout(max(0.5, ends + 2.0 - loop.time())):
                        await _call_hook(hook, client)
                except TimeoutError:
                    log.error("on_stop hook %r did not finish in time; going on", hook)
                except Exception:
                    log.exception("on_stop hook %r raised", hook)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(1.0, ends + 4.5 - loop.time())):
                    await client.close()
            self.client = self.worker = None
            self._signalled_at = None

    async def serve(
        self,
        *,
        url: str | None = None,
        exchange: str | None = None,
        concurrency: int | None = None,
        grace: float = 30.0,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Serve until ``stop`` is set, or SIGTERM/SIGINT (a second signal: stop now)."""
        loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        signals = 0

        def on_signal(signum: int) -> None:
            nonlocal signals
            signals += 1
            if signals == 1:
                self._signalled_at = loop.time()
                log.warning(
                    "%s: stopping; in-flight messages have %gs to finish",
                    signal.Signals(signum).name,
                    grace,
                )
                stop.set()
            else:
                log.warning("second signal: stopping now; unfinished messages go back")
                if self.worker is not None:
                    for running in self.worker.running:
                        task = loop.create_task(running.dispatcher.abandon())
                        abandoning.add(task)
                        task.add_done_callback(abandoning.discard)

        abandoning: set[asyncio.Task[None]] = set()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig)
                installed.append(sig)
        try:
            async with self.running(
                url=url, exchange=exchange, concurrency=concurrency, grace=grace
            ):
                log.info(
                    "serving %d listener(s) on %s",
                    len(self.listeners),
                    self.client.masked_url if self.client else "?",
                )
                await stop.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def run(
        self,
        *,
        url: str | None = None,
        exchange: str | None = None,
        concurrency: int | None = None,
        grace: float = 30.0,
    ) -> None:
        """Serve, blocking, until SIGTERM or SIGINT (graceful stop, like ``vincent serve``).

        Runs on uvloop when it is installed (``pip install vincent-amqp[speed]``).
        """
        from vincent_core.app.loop import run

        run(self.serve(url=url, exchange=exchange, concurrency=concurrency, grace=grace))


async def _call_hook(hook: Hook, client: Client) -> None:
    result = hook(client)
    if inspect.isawaitable(result):
        await result
