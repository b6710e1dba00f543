"""OpenTelemetry spans for cast, call and handling, linked across processes (optional).

Needs ``opentelemetry-api`` (``pip install 'vincent-amqp[otel]'``); configure the SDK and
an exporter as usual, then instrument once per process, for example at the top of the
module ``vincent serve`` loads::

    from vincent_core import otel

    otel.instrument()            # the global tracer provider; or tracer_provider=...

Each ``cast`` becomes a PRODUCER span ``<key> publish`` and each ``call`` a CLIENT span
``<key> call``; the W3C ``traceparent`` (and ``tracestate``) of that span travels in the
message headers beside ``x-vincent-trace``. The worker's CONSUMER (cast) or SERVER (call)
span ``<key> process`` continues the same trace, and everything the handler sends is its
child, so a nested call chain is one trace across every process it touches. A handling
span carries the outcome (``vincent.outcome``: handled, failed, retried, dead, expired,
rejected) and is marked as an error when the handler failed.

Nothing here is imported or run unless :func:`instrument` is called: it wraps
``Client.cast``, ``Client.call`` and the dispatcher's entry point, and :func:`uninstrument`
puts them back.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from vincent_core import observe
from vincent_core.errors import ConfigurationError
from vincent_core.observe import CallOutcome, MessageOutcome

__all__ = ["instrument", "uninstrument"]

_FAILED_OUTCOMES = frozenset({"failed", "dead"})
_saved: dict[str, Any] = {}


def _header_getter() -> Any:
    from opentelemetry.propagators.textmap import Getter

    class HeaderGetter(Getter[Mapping[str, Any]]):
        """Reads W3C trace headers from an AMQP field table (values may be bytes)."""

        def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
            value = carrier.get(key)
            if value is None:
                return None
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            return [text]

        def keys(self, carrier: Mapping[str, Any]) -> list[str]:
            return list(carrier.keys())

    return HeaderGetter()


class _SpanOutcomes(observe.Observer):
    """Forwards every event to the observer it replaced (metrics keep working) and writes
    outcomes onto the span that is current when they are reported."""

    def __init__(self, inner: observe.Observer | None) -> None:
        from opentelemetry import trace

        self.inner = inner
        self.trace = trace

    def message(self, key: str, outcome: MessageOutcome, seconds: float) -> None:
        span = self.trace.get_current_span()
        span.set_attribute("vincent.outcome", outcome)
        if outcome in _FAILED_OUTCOMES:
            span.set_status(self.trace.StatusCode.ERROR, f"handler {outcome}")
        if self.inner is not None:
            self.inner.message(key, outcome, seconds)

    def in_flight(self, key: str, delta: int) -> None:
        if self.inner is not None:
            self.inner.in_flight(key, delta)

    def call(self, key: str, outcome: CallOutcome, seconds: float) -> None:
        self.trace.get_current_span().set_attribute("vincent.outcome", outcome)
        if self.inner is not None:
            self.inner.call(key, outcome, seconds)

    def connection(self, url: str, state: str) -> None:
        if self.inner is not None:
            self.inner.connection(url, state)


def instrument(tracer_provider: Any = None) -> None:
    """Trace casts, calls and handling in this process (idempotent).

    ``tracer_provider``: an ``opentelemetry.trace.TracerProvider`` (default: the global
    one). Raises ``ConfigurationError`` without ``opentelemetry-api``.
    """
    try:
        from opentelemetry import propagate, trace
    except ImportError:
        raise ConfigurationError(
            "tracing needs opentelemetry-api: pip install 'vincent-amqp[otel]'"
        ) from None
    from vincent_core._version import __version__
    from vincent_core.app.dispatch import Dispatcher
    from vincent_core.client import Client

    if _saved:
        return
    tracer = trace.get_tracer("vincent", __version__, tracer_provider=tracer_provider)
    getter = _header_getter()
    kind = trace.SpanKind

    def attributes(key: str, exchange: str, operation: str) -> dict[str, str]:
        return {
            "messaging.system": "rabbitmq",
            "messaging.operation": operation,
            "messaging.destination.name": exchange,
            "messaging.rabbitmq.destination.routing_key": key,
        }

    def sending(
        original: Callable[..., Awaitable[Any]], span_kind: Any, verb: str
    ) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(original)
        async def wrapper(self: Client, key: str, *args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(
                f"{key} {verb}", kind=span_kind, attributes=attributes(key, self.exchange, verb)
            ):
                # A copy: the caller's dict may be reused for other messages.
                headers = dict(kwargs.get("headers") or {})
                propagate.inject(headers)
                kwargs["headers"] = headers
                return await original(self, key, *args, **kwargs)

        return wrapper

    original_handle = Dispatcher.__call__

    @functools.wraps(original_handle)
    async def handling(self: Dispatcher, delivery: Any) -> None:
        envelope = delivery.envelope
        parent = propagate.extract(envelope.headers or {}, getter=getter)
        span_kind = kind.SERVER if envelope.reply_to else kind.CONSUMER
        key = self.listener.key
        with tracer.start_as_current_span(
            f"{key} process",
            context=parent,
            kind=span_kind,
            attributes={
                **attributes(envelope.routing_key, envelope.exchange, "process"),
                "messaging.destination.subscription.name": self.queue,
                "messaging.message.id": envelope.message_id or "",
            },
        ):
            await original_handle(self, delivery)

    _saved.update(
        cast=Client.cast,
        call=Client.call,
        handle=original_handle,
        observer=observe.get_observer(),
    )
    Client.cast = sending(Client.cast, kind.PRODUCER, "publish")  # type: ignore[method-assign,assignment]
    Client.call = sending(Client.call, kind.CLIENT, "call")  # type: ignore[method-assign,assignment]
    Dispatcher.__call__ = handling  # type: ignore[method-assign]
    observe.set_observer(_SpanOutcomes(_saved["observer"]))


def uninstrument() -> None:
    """Undo :func:`instrument` (for tests); a no-op when not instrumented."""
    if not _saved:
        return
    from vincent_core.app.dispatch import Dispatcher
    from vincent_core.client import Client

    Client.cast = _saved["cast"]  # type: ignore[method-assign]
    Client.call = _saved["call"]  # type: ignore[method-assign]
    Dispatcher.__call__ = _saved["handle"]  # type: ignore[method-assign]
    current = observe.get_observer()
    if isinstance(current, _SpanOutcomes):
        observe.set_observer(current.inner)
    _saved.clear()
