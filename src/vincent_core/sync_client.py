"""The blocking client for WSGI app servers: the async Client, driven on a loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from vincent_core import forks
from vincent_core.client import Client, KeyProxy

__all__ = ["SyncClient"]

T = TypeVar("T")


class SyncClient:
    """Blocking, thread-safe cast and call, for code without an event loop.

    ::

        client = SyncClient()               # e.g. once per Flask/Django process
        client.cast("file.encrypt", {"key_id": 1234})
        data = client.call("file.get", {"file": "/etc/hostname"}, timeout=5)
        client.close()

    It owns one background thread running an event loop and one connection; every
    method may be called from any thread. Created before a ``fork()`` (gunicorn
    ``--preload``, uwsgi without ``lazy-apps``), it connects anew in the child on first
    use: the parent's thread does not exist there, and its connection stays the
    parent's. ``options`` are :class:`Client`'s (``connect_timeout``, ``max_body``).
    """

    def __init__(
        self, url: str | None = None, *, exchange: str | None = None, **options: Any
    ) -> None:
        self._options: dict[str, Any] = {"exchange": exchange, **options}
        self._url = url
        self._closed = False
        self._start()

    def _start(self) -> None:
        self._fork = forks.generation
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="vincent-sync-client", daemon=True
        )
        self._thread.start()
        self._client = Client(self._url, **self._options)
        try:
            self._run(self._client.connect())
        except BaseException:
            self._shutdown()
            raise

    def _after_fork(self) -> None:
        # The loop thread did not survive the fork, and the loop's selector is shared
        # with the parent: closing (or even collecting) it here would unregister the
        # parent's sockets. Keep it, untouched, and start afresh.
        _inherited.append((self._loop, self._thread, self._client))
        self._start()

    @property
    def masked_url(self) -> str:
        """The broker URL, password masked."""
        return self._client.masked_url

    @property
    def exchange(self) -> str:
        """The exchange casts and calls go to."""
        return self._client.exchange

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise RuntimeError("the SyncClient is closed")
        if self._fork != forks.generation:
            self._after_fork()
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def cast(self, key: str, body: Any = None, **options: Any) -> str:
        """Like :meth:`Client.cast`; blocks until the broker confirmed the message."""
        return self._run(self._client.cast(key, body, **options))

    def call(self, key: str, body: Any = None, **options: Any) -> Any:
        """Like :meth:`Client.call` (``reply=Model`` included); blocks until the reply
        (or the timeout)."""
        return self._run(self._client.call(key, body, **options))

    @property
    def to(self) -> KeyProxy:
        """``client.to.file.encrypt(key_id=1)`` casts and blocks until confirmed."""
        return KeyProxy(self.cast)

    def close(self) -> None:
        """Close the connection and stop the loop thread (idempotent)."""
        if self._closed:
            return
        if self._fork != forks.generation:
            # A forked child that never used it: the connection is the parent's.
            self._closed = True
            _inherited.append((self._loop, self._thread, self._client))
            return
        try:
            self._run(self._client.close())
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: a forked child's copies of its parent's loops, threads and clients: never run,
#: closed or collected there
_inherited: list[tuple[asyncio.AbstractEventLoop, threading.Thread, Client]] = []
