"""What a listener accepts and answers, for the tools that describe an app.

``listener.schema`` is read by ``vincent asyncapi``, ``vincent services`` and the
console (``desc KEY``, field-name completion)::

    schema = app.listeners[0].schema
    schema.summary          # the docstring's first line
    schema.request          # JSON Schema of the body, or None for an untyped handler
    schema.fields()         # ["file", "key_id"]: the body's top-level fields
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from vincent_core.validation import json_schema

if TYPE_CHECKING:
    from vincent_core.app.listener import Listener
    from vincent_core.app.typed import HandlerTypes

__all__ = ["ListenerSchema", "schema_of"]


@dataclass(frozen=True)
class ListenerSchema:
    """The declared types of one listener, with its documentation."""

    key: str
    handler: str
    #: the body's type (``None``: untyped, any JSON object)
    request_type: Any
    #: the reply's type (``None``: undeclared)
    reply_type: Any
    #: whether the handler answers calls (False for ``-> None``)
    replies: bool
    #: the handler returns raw bytes (``-> bytes``): ``application/octet-stream``
    binary_reply: bool
    summary: str
    description: str

    @cached_property
    def request(self) -> dict[str, Any] | None:
        """JSON Schema of the body, or ``None`` when the handler is untyped."""
        return None if self.request_type is None else json_schema(self.request_type)

    @cached_property
    def reply(self) -> dict[str, Any] | None:
        """JSON Schema of the reply, or ``None`` when it is undeclared."""
        if self.reply_type is None:
            return None
        return json_schema(self.reply_type, mode="serialization")

    def fields(self) -> list[str]:
        """The body's top-level field names (empty when untyped or not an object)."""
        schema = self.request
        if schema is None:
            return []
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            schema = schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        properties = schema.get("properties")
        return list(properties) if isinstance(properties, dict) else []


def _docstring(obj: Any) -> tuple[str, str]:
    text = inspect.getdoc(obj) or ""
    summary, _, rest = text.partition("\n")
    return summary.strip(), rest.strip()


def _request_type(declared: list[HandlerTypes]) -> Any:
    bodies = [types.body for types in declared]
    if not bodies or any(body is None for body in bodies):
        return None
    distinct = list(dict.fromkeys(bodies))
    if len(distinct) == 1:
        return distinct[0]
    from typing import Union

    return Union[tuple(distinct)]  # noqa: UP007 - built from a runtime list


def schema_of(listener: Listener) -> ListenerSchema:
    """The schema of ``listener`` (see :class:`ListenerSchema`)."""
    from vincent_core.app.typed import UNTYPED

    call = listener.call_types or UNTYPED
    cast = listener.cast_types or UNTYPED
    declared = [call] if call is cast else [call, cast]
    summary, description = _docstring(listener.handler)
    return ListenerSchema(
        key=listener.key,
        handler=listener.name,
        request_type=_request_type(declared),
        reply_type=call.reply,
        replies=call.replies,
        binary_reply=call.returns in (bytes, bytearray),
        summary=summary,
        description=description,
    )
