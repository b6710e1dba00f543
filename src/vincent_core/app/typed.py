"""Typed handlers: what a handler's annotations declare, and the adapter that honours it.

::

    class EncryptRequest(BaseModel):
        file: str
        key_id: int

    @app.listen("file.encrypt")
    async def encrypt(req: EncryptRequest, msg: Message) -> Encrypted:
        ...

A handler is *typed* when a parameter is annotated with a type other than ``Message``
(the body, validated into that type before the handler runs), or when its return
annotation is a model (a pydantic model, dataclass or TypedDict: the reply is checked
against it and serialised from it). A parameter annotated ``Message`` receives the
message itself. Any other handler is called exactly as before: ``handler(message)``.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Literal

from vincent_core.errors import ConfigurationError, InvalidMessage
from vincent_core.message import Message
from vincent_core.validation import (
    FIELDS_HEADER_LIMIT,
    adapter,
    dump,
    fields_header,
    type_name,
    validate_body,
)

__all__ = [
    "FIELDS_HEADER",
    "HandlerTypes",
    "Refused",
    "adapt",
    "invalid_headers",
    "is_model",
    "read_types",
]

Role = Literal["body", "message"]
#: what a handler call needs: the message and the arguments the signature asks for
Invoke = Callable[[Message, tuple[Any, ...]], Any]

# Return annotations that declare nothing to check: the value goes out as it is.
_AS_IS: tuple[Any, ...] = (Any, object, bytes, bytearray)
# Parameter annotations that declare no body type: the parameter gets the message.
_UNDECLARED: tuple[Any, ...] = (inspect.Parameter.empty, Any, object)
_EMPTY = inspect.Parameter.empty
#: the dead letter of an invalid cast lists the field errors here (JSON, at most 8 KiB)
FIELDS_HEADER = "x-vincent-error-fields"


class Refused(Exception):
    """Raised by a typed adapter when the body (or a call's reply) does not match its
    type. Only the adapter raises it: an ``InvalidMessage`` that a nested call raised
    inside the handler is an ordinary handler failure."""

    def __init__(self, error: InvalidMessage) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class HandlerTypes:
    """What one handler declares: its body type, its reply type, its arguments."""

    #: the type the body is validated into, or ``None`` (the handler gets the message)
    body: Any = None
    #: the type the reply is checked against and serialised from, or ``None``
    reply: Any = None
    #: one role per positional argument: ``"body"`` or ``"message"``
    arguments: tuple[Role, ...] = ("message",)
    #: False when the return annotation says the handler never answers (``-> None``)
    replies: bool = True
    #: the return annotation, for documentation (``bytes``, ``dict[str, Any]``...)
    returns: Any = None

    @property
    def typed(self) -> bool:
        """Whether the adapter is needed (otherwise: ``handler(message)`` as ever)."""
        return self.body is not None or self.reply is not None


UNTYPED = HandlerTypes()


def is_model(tp: Any) -> bool:
    """A pydantic model, a dataclass or a TypedDict (a type worth checking a reply against)."""
    if not isinstance(tp, type):
        return False
    # A TypedDict of typing or of typing_extensions: a dict class with required keys.
    typed_dict = issubclass(tp, dict) and hasattr(tp, "__required_keys__")
    return hasattr(tp, "__pydantic_core_schema__") or dataclasses.is_dataclass(tp) or typed_dict


def _is_message(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Message)


def _names_message(annotation: str) -> bool:
    # "Message" or "vincent_core.Message" that could not be resolved (imported under
    # TYPE_CHECKING): an untyped handler, as it always was.
    return annotation.rsplit(".", 1)[-1].strip("'\" ") == "Message"


def _enclosing_locals(func: Any) -> dict[str, Any]:
    """The local names of the function that defines ``func``, while it runs (a handler
    declared inside a function, whose annotations name that function's classes or local
    imports: ``from __future__ import annotations`` made them strings)."""
    qualname = getattr(func, "__qualname__", "")
    if ".<locals>." not in qualname:
        return {}
    outer = qualname.rsplit(".<locals>.", 1)[0]
    frame: FrameType | None = sys._getframe(1)
    for _ in range(64):
        if frame is None:
            break
        if frame.f_code.co_qualname == outer:
            return dict(frame.f_locals)
        frame = frame.f_back
    return {}


def _resolve(func: Any, name: str, where: str, local: dict[str, Any]) -> Any:
    """One annotation, resolved even when its neighbours cannot be."""
    raw = func.__annotations__.get(name, _EMPTY) if hasattr(func, "__annotations__") else _EMPTY
    if not isinstance(raw, str):
        return raw
    try:
        return eval(raw, getattr(func, "__globals__", {}), local)
    except Exception as exc:
        if _names_message(raw):
            return Message
        if name == "return":
            return _EMPTY
        raise ConfigurationError(
            f"cannot resolve the annotation {raw!r} of {where}'s parameter {name!r} "
            f"({type(exc).__name__}: {exc}): define or import it where the handler is defined"
        ) from None


def _hints(func: Any, where: str) -> dict[str, Any]:
    local = _enclosing_locals(func)
    try:
        return typing.get_type_hints(func, localns=local or None)
    except Exception:
        # Parameters with a default are never passed (``name=name`` closures): an
        # annotation there that cannot be resolved does not matter.
        parameters = inspect.signature(func).parameters.values()
        names = [p.name for p in parameters if p.default is _EMPTY] + ["return"]
        return {name: _resolve(func, name, where, local) for name in names}


def read_types(func: Callable[..., Any], *, where: str, skip_first: bool = False) -> HandlerTypes:
    """What ``func`` declares. ``skip_first`` for a method taken from its class (``self``)."""
    target = func
    if not (inspect.isfunction(func) or inspect.ismethod(func)) and callable(func):
        target = getattr(func, "__call__", func)  # noqa: B004 - a callable object's method
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable: no annotations to read
        return UNTYPED
    if skip_first:
        parameters = parameters[1:]
    hints = _hints(target, where)
    arguments: list[Role] = []
    body: Any = None
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is not _EMPTY:
            continue  # never passed: `def handle(msg, name=name)` stays untyped
        if parameter.kind is parameter.KEYWORD_ONLY:
            raise ConfigurationError(
                f"{where} has a required keyword-only parameter {parameter.name!r}: "
                "a handler takes the body and/or the message"
            )
        annotation = hints.get(parameter.name, _EMPTY)
        if _is_message(annotation):
            arguments.append("message")
        elif annotation in _UNDECLARED and not arguments:
            arguments.append("message")  # `def handle(msg)`: the untyped form
        elif annotation in _UNDECLARED:
            raise ConfigurationError(
                f"{where}: annotate parameter {parameter.name!r} with the body's type or "
                "with Message"
            )
        elif body is not None:
            raise ConfigurationError(
                f"{where} declares two body parameters; annotate the second with Message"
            )
        else:
            body = annotation
            arguments.append("body")
    returns = hints.get("return", _EMPTY)
    replies = returns not in (None, type(None), typing.NoReturn)
    reply: Any = None
    declared = replies and returns is not _EMPTY and returns not in _AS_IS
    if declared and (body is not None or is_model(returns)):
        reply = returns
    if body is None and reply is None:
        return HandlerTypes(replies=replies, returns=returns if returns is not _EMPTY else None)
    for tp in (body, reply):
        if tp is not None:
            _check_type(tp, where)
    return HandlerTypes(body, reply, tuple(arguments), replies, returns)


def _check_type(tp: Any, where: str) -> None:
    """Build the type's adapter now: a type pydantic cannot handle fails at declaration,
    not on the first message."""
    try:
        adapter(tp)
    except ImportError as exc:  # pragma: no cover - pydantic is a dependency
        raise ConfigurationError(f"{where}: typed handlers need pydantic 2 ({exc})") from None
    except Exception as exc:
        raise ConfigurationError(
            f"{where}: cannot use {type_name(tp)} as a message type: {exc}"
        ) from None


def _arguments(types: HandlerTypes, message: Message) -> tuple[Any, ...]:
    values: list[Any] = []
    for role in types.arguments:
        if role == "message":
            values.append(message)
        else:
            try:
                values.append(validate_body(types.body, message.body, key=message.key))
            except InvalidMessage as error:
                raise Refused(error) from None
    return tuple(values)


def _reply(types: HandlerTypes, message: Message, result: Any) -> Any:
    # A cast has nobody to answer: its return value is dropped, unchecked, as ever.
    if types.reply is None or not message.reply_to:
        return result
    try:
        return dump(types.reply, result, key=message.key)
    except InvalidMessage as error:
        raise Refused(error) from None


def adapt(types: HandlerTypes, invoke: Invoke, *, is_async: bool) -> Callable[[Message], Any]:
    """The runner the dispatcher calls with the message: validate the body, call the
    handler through ``invoke``, check and serialise what it returns."""
    if is_async:

        async def run_async(message: Message) -> Any:
            awaitable: Awaitable[Any] = invoke(message, _arguments(types, message))
            return _reply(types, message, await awaitable)

        return run_async

    def run(message: Message) -> Any:
        return _reply(types, message, invoke(message, _arguments(types, message)))

    return run


def invalid_headers(error: InvalidMessage) -> dict[str, Any]:
    """The dead-letter headers of an invalid cast: its error type, the fields one per
    line in the message, and the fields as JSON; each at most 8 KiB."""
    text = str(error).partition(": ")[2]
    if len(text.encode()) > FIELDS_HEADER_LIMIT:
        marker = "\n... (cut)"
        room = FIELDS_HEADER_LIMIT - len(marker)
        text = text.encode()[:room].decode(errors="ignore") + marker
    return {
        "x-vincent-error-type": error.type,
        "x-vincent-error-message": text,
        FIELDS_HEADER: fields_header(error.errors),
    }
