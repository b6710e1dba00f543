"""An app's AsyncAPI 3.0.0 document, built from its listeners (pure code, no I/O).

::

    from vincent_core.asyncapi import asyncapi_document

    document = asyncapi_document(app, title="files", version="1.2.0")

One channel per key on the exchange (AMQP channel binding: the exchange; vincent's queue
and ``route_to`` in ``x-vincent-*`` extensions), one ``receive`` operation per listener,
the request message's payload from the handler's body type (an open object when
untyped), and, for handlers that answer calls, a ``reply`` object whose channel is the
caller's ``reply_to`` queue with two messages: the reply and vincent's error reply.
Schemas shared by several messages are in ``components.schemas``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from vincent_core.config import mask_url
from vincent_core.validation import adapter

if TYPE_CHECKING:
    from vincent_core.app import Vincent
    from vincent_core.app.listener import Listener
    from vincent_core.app.schema import ListenerSchema

__all__ = ["ASYNCAPI_VERSION", "asyncapi_document"]

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING = "0.3.0"
_REF = "#/components/schemas/{model}"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "VincentError",
    "description": "What a call gets when its handler raised, refused the body "
    "(type vincent.invalid) or was rejected by every consumer.",
    "required": ["type", "message"],
    "properties": {
        "type": {"type": "string", "description": "the remote exception's class name"},
        "message": {"type": "string"},
        "traceback": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "the fields that did not match (vincent.invalid)",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
UNTYPED_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "untyped: any JSON object",
    "additionalProperties": True,
}
UNTYPED_REPLY: dict[str, Any] = {"description": "untyped: any JSON value"}
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


def _identifier(text: str) -> str:
    return _UNSAFE.sub("_", text.replace("*", "star").replace("#", "hash")) or "default"


def _unique(base: str, taken: Iterable[str]) -> str:
    used = set(taken)
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


def _servers(url: str) -> dict[str, Any]:
    servers: dict[str, Any] = {}
    urls = [part.strip() for part in url.split(",") if part.strip()]
    for n, one in enumerate(urls, start=1):
        parts = urlsplit(one)
        if parts.scheme == "memory":  # the in-process broker: no host to reach
            host = f"memory:{parts.netloc or 'default'}"
        else:
            host = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}"
        server: dict[str, Any] = {
            "host": host,
            "protocol": parts.scheme or "amqp",
            "description": f"broker {mask_url(one)}",
        }
        if parts.scheme in ("amqp", "amqps"):
            server["protocolVersion"] = "0.9.1"
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        if vhost != "/":
            server["pathname"] = f"/{parts.path[1:]}"
        servers["broker" if len(urls) == 1 else f"broker-{n}"] = server
    return servers


def _vhost(url: str) -> str:
    path = urlsplit(url.split(",", 1)[0].strip()).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _schemas(schemas: list[ListenerSchema]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """Every declared type's JSON Schema, generated together so that a model used by
    several handlers is defined once (in ``components.schemas``)."""
    inputs: list[tuple[Any, Any, Any]] = []
    for schema in schemas:
        if schema.request_type is not None:
            inputs.append(((schema.key, "request"), "validation", adapter(schema.request_type)))
        if schema.reply_type is not None:
            inputs.append(((schema.key, "reply"), "serialization", adapter(schema.reply_type)))
    if not inputs:
        return {}, {}
    from pydantic import TypeAdapter

    found, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    return {key: value for (key, _mode), value in found.items()}, dict(definitions.get("$defs", {}))


def _listener_queue(listener: Listener) -> dict[str, Any]:
    queue: dict[str, Any] = {
        "name": listener.display_queue(),
        "durable": listener.route_to != "all",
        "exclusive": listener.route_to == "all",
        "autoDelete": listener.route_to == "all",
    }
    if listener.queue_type == "quorum":
        queue["type"] = "quorum"
    if listener.ttl is not None:
        queue["messageTtlSeconds"] = listener.ttl
    return queue


def asyncapi_document(
    app: Vincent,
    *,
    title: str = "vincent app",
    version: str = "0.0.0",
    description: str = "",
    url: str | None = None,
    exchange: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of ``app`` as JSON-ready data (see the module doc).

    ``url`` and ``exchange`` override the app's own (as ``vincent serve`` options do);
    the URL's password never reaches the document.
    """
    url = url or app.url
    exchange = app.exchange if exchange is None else exchange
    vhost = _vhost(url)
    schemas = [listener.schema for listener in app.listeners]
    payloads, definitions = _schemas(schemas)
    components_messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    channel_of_key: dict[str, str] = {}
    any_reply = False

    for listener, schema in zip(app.listeners, schemas, strict=True):
        key = listener.key
        if key not in channel_of_key:
            channel_id = _unique(_identifier(key), channels)
            channel_of_key[key] = channel_id
            channels[channel_id] = {
                "address": key,
                "title": key,
                "messages": {},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": exchange,
                            "type": "topic" if exchange else "default",
                            "durable": True,
                            "autoDelete": False,
                            "vhost": vhost,
                        },
                        "bindingVersion": AMQP_BINDING,
                    }
                },
                "x-vincent-queues": [],
            }
        channel_id = channel_of_key[key]
        channel = channels[channel_id]
        channel["x-vincent-queues"].append(
            {**_listener_queue(listener), "routeTo": listener.route_to}
        )

        operation_id = _unique(_identifier(f"receive.{key}"), operations)
        message_id = _unique(f"{_identifier(key)}.request", components_messages)
        request = payloads.get((key, "request"), UNTYPED_REQUEST)
        message: dict[str, Any] = {
            "name": message_id,
            "title": _type_title(schema.request_type) or f"{key} (untyped)",
            "contentType": "application/json",
            "payload": request,
        }
        if schema.summary:
            message["summary"] = schema.summary
        if schema.replies:
            message["correlationId"] = {
                "description": "the AMQP correlation_id property of a call",
                "location": "$message.header#/correlation_id",
            }
        components_messages[message_id] = message
        name_in_channel = _unique("request", channel["messages"])
        channel["messages"][name_in_channel] = {"$ref": f"#/components/messages/{message_id}"}

        operation: dict[str, Any] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "title": schema.handler,
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name_in_channel}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
            "x-vincent-queue": listener.display_queue(),
            "x-vincent-route-to": listener.route_to,
        }
        if schema.summary:
            operation["summary"] = schema.summary
        if schema.description:
            operation["description"] = schema.description
        if schema.replies:
            any_reply = True
            operation["reply"] = _reply(
                key, schema, payloads, channel_id, channels, components_messages
            )
        operations[operation_id] = operation

    components: dict[str, Any] = {"messages": components_messages}
    if any_reply:
        definitions["VincentError"] = ERROR_SCHEMA
    if definitions:
        components["schemas"] = dict(sorted(definitions.items()))
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": "application/json",
        "servers": _servers(url),
        "channels": channels,
        "operations": operations,
        "components": components,
    }


def _reply(
    key: str,
    schema: ListenerSchema,
    payloads: dict[Any, dict[str, Any]],
    channel_id: str,
    channels: dict[str, Any],
    components_messages: dict[str, Any],
) -> dict[str, Any]:
    """The operation's ``reply``: the caller's ``reply_to`` queue, answered with the
    handler's value (``x-vincent-status: ok``) or an error (``error``)."""
    reply_channel = _unique(f"{channel_id}.reply", channels)
    ok_id = _unique(f"{_identifier(key)}.reply", components_messages)
    if schema.binary_reply:
        ok: dict[str, Any] = {"contentType": "application/octet-stream", "payload": BINARY}
    else:
        ok = {
            "contentType": "application/json",
            "payload": payloads.get((key, "reply"), UNTYPED_REPLY),
        }
    components_messages[ok_id] = {
        "name": ok_id,
        "title": _type_title(schema.reply_type) or f"{key} reply",
        "summary": f"the reply of {key}",
        "headers": _status_headers("ok"),
        "correlationId": {"location": "$message.header#/correlation_id"},
        **ok,
    }
    if "vincent.error" not in components_messages:
        components_messages["vincent.error"] = {
            "name": "vincent.error",
            "title": "error reply",
            "summary": "the handler raised, refused an invalid body, or was rejected",
            "contentType": "application/json",
            "headers": _status_headers("error"),
            "correlationId": {"location": "$message.header#/correlation_id"},
            "payload": {"$ref": _REF.format(model="VincentError")},
        }
    channels[reply_channel] = {
        "address": None,
        "title": f"{key} reply",
        "description": "The caller's reply queue, named by the request's reply_to "
        "(RabbitMQ direct reply-to, or a callback queue), via the default exchange.",
        "messages": {
            "reply": {"$ref": f"#/components/messages/{ok_id}"},
            "error": {"$ref": "#/components/messages/vincent.error"},
        },
    }
    return {
        "address": {
            "description": "the request's AMQP reply_to property",
            "location": "$message.header#/reply_to",
        },
        "channel": {"$ref": f"#/channels/{reply_channel}"},
        "messages": [
            {"$ref": f"#/channels/{reply_channel}/messages/reply"},
            {"$ref": f"#/channels/{reply_channel}/messages/error"},
        ],
    }


def _status_headers(status: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"x-vincent-status": {"type": "string", "const": status}},
    }


def _type_title(tp: Any) -> str:
    if tp is None:
        return ""
    from vincent_core.validation import type_name

    return type_name(tp)
