"""Class-based listeners: the seed's ``Vincent::Base``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any, ClassVar, NoReturn

from vincent_core.app.listener import Listener, Runner, is_async_callable, qualified_name
from vincent_core.app.typed import HandlerTypes, adapt, read_types
from vincent_core.errors import ConfigurationError
from vincent_core.message import Message
from vincent_core.wire.routing import RouteTo

__all__ = ["Service", "listener_for_service"]


class Service:
    """A listener written as a class; a new instance handles each message.

    ::

        class FilePut(Service):
            bind_to = "file.put"
            route_to = "one"              # "one", "all" or "host"
            active = "disk_not_full"      # consumption pauses while this returns False

            def disk_not_full(self) -> bool:
                return shutil.disk_usage("/").free > 1 << 30

            async def handle_cast(self):
                await self.cast("file.stored", {"file": self.params["file"]})

            async def handle_call(self):
                return {"stored": self.params["file"]}

        app.include(FilePut)

    ``handle_call`` serves messages that expect a reply and ``handle_cast`` the others;
    when only one is defined it serves both. Methods may be ``async def`` or plain
    ``def`` (run in a worker thread, where ``self.cast``/``self.call`` block).

    Typed like a function handler: ``async def handle_call(self, req: EncryptRequest)
    -> Encrypted`` gets the validated body, and ``self.message`` stays available.
    """

    bind_to: ClassVar[str] = ""
    route_to: ClassVar[RouteTo] = "one"
    queue: ClassVar[str | None] = None
    ttl: ClassVar[float | None] = None
    active: ClassVar[str | None] = None
    retries: ClassVar[int | None] = None
    concurrency: ClassVar[int | None] = None

    message: Message

    @property
    def params(self) -> Any:
        """The decoded body of the message being handled."""
        return self.message.body

    def reject(self, reason: str = "") -> NoReturn:
        """Hand the message to another consumer. Does not return."""
        self.message.reject(reason)

    def cast(self, key: str, body: Any = None, **options: Any) -> Any:
        """Cast, inheriting the message's deadline."""
        return self.message.cast(key, body, **options)

    def call(self, key: str, body: Any = None, **options: Any) -> Any:
        """Call, inheriting the message's deadline."""
        return self.message.call(key, body, **options)


def _defines(cls: type[Service], name: str) -> bool:
    return any(name in vars(klass) for klass in cls.__mro__ if klass is not Service)


def listener_for_service(cls: type[Service], **overrides: Any) -> Listener:
    """The Listener that serves ``cls``; keyword overrides win over class attributes."""
    if not (isinstance(cls, type) and issubclass(cls, Service)):
        raise ConfigurationError(f"{cls!r} is not a Service subclass")
    has_cast, has_call = _defines(cls, "handle_cast"), _defines(cls, "handle_call")
    if not (has_cast or has_call):
        raise ConfigurationError(
            f"{qualified_name(cls)} defines neither handle_cast nor handle_call"
        )
    key = overrides.pop("key", None) or cls.bind_to
    if not key:
        raise ConfigurationError(f"{qualified_name(cls)} has no bind_to")

    methods = {
        name: _method_plan(cls, name)
        for name, defined in (("handle_call", has_call), ("handle_cast", has_cast))
        if defined
    }

    def planner(expects_reply: bool) -> tuple[bool, Runner]:
        method = "handle_call" if (expects_reply and has_call) or not has_cast else "handle_cast"
        return methods[method][1]

    call_types = methods["handle_call" if has_call else "handle_cast"][0]
    cast_types = methods["handle_cast" if has_cast else "handle_call"][0]

    options: dict[str, Any] = {
        "queue": cls.queue,
        "route_to": cls.route_to,
        "ttl": cls.ttl,
        "concurrency": cls.concurrency,
    }
    if cls.retries is not None:
        options["retries"] = cls.retries
    if cls.active:
        options["active"] = _active_check(cls, cls.active)
    options.update(overrides)
    return Listener(
        key,
        cls,
        planner=planner,
        name=qualified_name(cls),
        call_types=call_types,
        cast_types=cast_types,
        **options,
    )


def _method_plan(cls: type[Service], method: str) -> tuple[HandlerTypes, tuple[bool, Runner]]:
    """What ``cls.method`` declares, and how to run it on a new instance per message."""
    function = getattr(cls, method)
    is_async = is_async_callable(function)
    types = read_types(function, where=f"{qualified_name(cls)}.{method}", skip_first=True)

    def bound(message: Message) -> Any:
        instance = cls()
        instance.message = message
        return getattr(instance, method)

    if not types.typed:
        return types, (is_async, lambda message: bound(message)())
    return types, (is_async, adapt(types, lambda m, args: bound(m)(*args), is_async=is_async))


def _active_check(cls: type[Service], method_name: str) -> Any:
    if not callable(getattr(cls, method_name, None)):
        raise ConfigurationError(f"{qualified_name(cls)}.active names no method {method_name!r}")
    instance = cls()

    def check() -> bool | Awaitable[bool]:
        result: bool | Awaitable[bool] = getattr(instance, method_name)()
        return result

    check.__name__ = method_name
    if inspect.iscoroutinefunction(getattr(cls, method_name)):

        async def check_async() -> bool:
            return bool(await getattr(instance, method_name)())

        return check_async
    return check
