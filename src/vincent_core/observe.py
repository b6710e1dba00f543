"""Hooks for metrics: what workers and clients report, and who listens.

Nothing is reported unless an observer is installed (``set_observer``): the hot paths
only read one module attribute. :mod:`vincent_core.metrics` installs a Prometheus one.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CallOutcome", "MessageOutcome", "Observer", "get_observer", "set_observer"]

MessageOutcome = Literal["handled", "failed", "retried", "dead", "expired", "rejected"]
CallOutcome = Literal["ok", "timeout", "no-route", "remote-error", "rejected", "connection-lost"]


class Observer:
    """Receives events; every method is a no-op here, override what you need."""

    def message(self, key: str, outcome: MessageOutcome, seconds: float) -> None:
        """A listener for ``key`` settled a message after ``seconds`` of handling."""

    def in_flight(self, key: str, delta: int) -> None:
        """A handler for ``key`` started (+1) or finished (-1)."""

    def call(self, key: str, outcome: CallOutcome, seconds: float) -> None:
        """A ``call`` to ``key`` ended."""

    def connection(self, url: str, state: str) -> None:
        """A connection changed state (``connected``, ``reconnecting``, ``closed``...)."""


observer: Observer | None = None


def set_observer(new: Observer | None) -> Observer | None:
    """Install ``new`` process-wide (``None`` turns reporting off); returns the old one."""
    global observer
    old, observer = observer, new
    return old


def get_observer() -> Observer | None:
    """The installed observer, if any."""
    return observer
