"""A listener: a key, a handler, and how its queue is declared and consumed."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from vincent_core.app.schema import ListenerSchema, schema_of
from vincent_core.app.typed import HandlerTypes, adapt, read_types
from vincent_core.config import DEFAULT_MAX_BODY
from vincent_core.errors import ConfigurationError
from vincent_core.message import Message
from vincent_core.transport.base import QueueSpec
from vincent_core.wire.deadlines import expiration_ms
from vincent_core.wire.failures import DEFAULT_RETRY_DELAYS
from vincent_core.wire.routing import ROUTE_TO, RouteTo, check_key, queue_name

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "ActiveCheck",
    "Handler",
    "Listener",
    "Route",
    "dead_letter_queue_spec",
]

#: the largest body a worker takes: the same limit a sender applies before sending
DEFAULT_MAX_BODY_SIZE = DEFAULT_MAX_BODY

#: ``handler(msg: Message)``, or a typed handler (its annotations say what it takes)
Handler = Callable[..., Any]
ActiveCheck = Callable[[], bool | Awaitable[bool]]
#: Given the message, run the handler (returns an awaitable when the plan is async).
Runner = Callable[[Message], Any]
QueueType = Literal["classic", "quorum"]


@dataclass(frozen=True, slots=True)
class Route:
    """One row of ``vincent routes``."""

    key: str
    queue: str
    route_to: str
    handler: str


def qualified_name(obj: Any) -> str:
    """``module.function`` or ``module.Class`` for display."""
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def is_async_callable(obj: Any) -> bool:
    """True for ``async def`` functions and objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
        getattr(obj, "__call__", None)  # noqa: B004 - the attribute, not callability
    )


@dataclass(eq=False)
class Listener:
    """What ``@app.listen`` and ``app.include`` declare."""

    key: str
    handler: Handler
    queue: str | None = None
    route_to: RouteTo = "one"
    ttl: float | None = None
    retries: int = 3
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    concurrency: int | None = None
    active: ActiveCheck | None = None
    active_interval: float = 5.0
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    queue_type: QueueType = "classic"
    delivery_limit: int = 20
    name: str = ""
    #: set for Service listeners: picks handle_cast/handle_call per message
    planner: Callable[[bool], tuple[bool, Runner]] | None = field(default=None, repr=False)
    #: what the handler serving calls / casts declares (read from its annotations)
    call_types: HandlerTypes | None = field(default=None, repr=False)
    cast_types: HandlerTypes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_key(self.key, pattern=True)
        if self.route_to not in ROUTE_TO:
            raise ConfigurationError(
                f"route_to must be one of {', '.join(ROUTE_TO)}, not {self.route_to!r}"
            )
        if self.retries < 0:
            raise ConfigurationError("retries must be 0 or more")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigurationError("concurrency must be at least 1")
        if self.queue_type not in ("classic", "quorum"):
            raise ConfigurationError(
                f"queue_type must be classic or quorum, not {self.queue_type!r}"
            )
        if self.ttl is not None:
            expiration_ms(self.ttl)
        self.name = self.name or qualified_name(self.handler)
        self._async = is_async_callable(self.handler)
        self._runner: Runner = self.handler
        if self.planner is None:
            types = read_types(self.handler, where=self.name)
            self.call_types = self.cast_types = types
            if types.typed:
                handler = self.handler
                self._runner = adapt(types, lambda _, args: handler(*args), is_async=self._async)

    def plan(self, expects_reply: bool) -> tuple[bool, Runner]:
        """Whether the handler for this message is async, and how to run it."""
        if self.planner is not None:
            return self.planner(expects_reply)
        return self._async, self._runner

    @property
    def schema(self) -> ListenerSchema:
        """What the handler accepts and answers, as JSON Schemas, with its docstring:
        for documentation (``vincent asyncapi``), ``vincent services`` and the console."""
        return schema_of(self)

    def queue_name(self, hostname: str | None = None) -> str:
        """The queue name (unique per process for ``route_to="all"``)."""
        return queue_name(self.key, self.route_to, self.queue, hostname=hostname)

    def display_queue(self) -> str:
        """The queue as ``vincent routes`` shows it."""
        if self.route_to == "all":
            return f"{self.queue or self.key}.all.<host>.<pid>.<id> (exclusive)"
        if self.route_to == "host":
            return f"{self.queue or self.key}.<host>"
        return self.queue or self.key

    def queue_spec(self, name: str, dead_letter_queue: str) -> QueueSpec:
        """How to declare this listener's queue."""
        arguments: dict[str, Any] = {}
        if self.ttl is not None:
            arguments["x-message-ttl"] = int(expiration_ms(self.ttl))
        if self.route_to == "all":
            return QueueSpec(
                name, durable=False, exclusive=True, auto_delete=True, arguments=arguments
            )
        if self.queue_type == "quorum":
            arguments["x-queue-type"] = "quorum"
            arguments["x-delivery-limit"] = self.delivery_limit
            arguments["x-dead-letter-exchange"] = ""
            arguments["x-dead-letter-routing-key"] = dead_letter_queue
        return QueueSpec(name, durable=True, arguments=arguments)

    def helper_queue_arguments(self) -> dict[str, Any]:
        """Arguments for this listener's retry queue: a quorum listener's retry queue is
        a quorum queue too, so that retries survive (and can be redeclared after) the
        loss of the node holding them."""
        if self.queue_type == "quorum" and self.route_to != "all":
            return {"x-queue-type": "quorum"}
        return {}

    def route(self) -> Route:
        """This listener as a row of ``vincent routes``."""
        return Route(self.key, self.display_queue(), self.route_to, self.name)


def dead_letter_queue_spec(name: str, listeners: Sequence[Listener]) -> QueueSpec:
    """The dead-letter queue: a quorum queue when any listener uses quorum queues (in a
    cluster, a classic queue whose node is down cannot be redeclared, which would keep a
    reconnecting worker from consuming at all), else a classic durable queue."""
    quorum = any(listener.helper_queue_arguments() for listener in listeners)
    return QueueSpec(name, durable=True, arguments={"x-queue-type": "quorum"} if quorum else {})
