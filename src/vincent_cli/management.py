"""The RabbitMQ management HTTP API, for what AMQP cannot tell (listing queues, bindings).

One place sends requests to it, so that one place decides which credentials go where.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "Binding",
    "api_credentials",
    "exchange_bindings",
    "get_json",
    "queue_consumers",
    "send_json",
    "set_vhost_tracing",
    "vhost_of",
    "vhost_tracing",
]


def api_credentials(broker_url: str, api_url: str) -> tuple[str, str, str]:
    """(api base URL without credentials, user, password), the API's own first."""
    import urllib.parse

    api = urllib.parse.urlsplit(api_url)
    broker = urllib.parse.urlsplit(broker_url.split(",")[0])
    user = urllib.parse.unquote(api.username or broker.username or "guest")
    password = urllib.parse.unquote(api.password or broker.password or "guest")
    host = api.hostname or ""
    netloc = f"{host}:{api.port}" if api.port else host
    return urllib.parse.urlunsplit(api._replace(netloc=netloc)).rstrip("/"), user, password


def vhost_of(broker_url: str) -> str:
    """The virtual host a broker URL names (``/`` when it names none)."""
    import urllib.parse

    path = urllib.parse.urlsplit(broker_url.split(",")[0]).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def get_json(broker_url: str, api_url: str, path: str, timeout: float = 5.0) -> Any:
    """``GET {api}{path}`` and its decoded JSON; ``path`` starts with ``/api/``."""
    import base64
    import json
    import urllib.request

    base, user, password = api_credentials(broker_url, api_url)
    request = urllib.request.Request(f"{base}{path}")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def send_json(
    broker_url: str, api_url: str, method: str, path: str, document: Any, timeout: float = 5.0
) -> None:
    """``PUT``/``POST``/``DELETE`` ``{api}{path}`` with ``document`` as its JSON body."""
    import base64
    import json
    import urllib.request

    base, user, password = api_credentials(broker_url, api_url)
    data = json.dumps(document).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def _vhost_path(broker_url: str) -> str:
    import urllib.parse

    return urllib.parse.quote(vhost_of(broker_url), safe="")


def vhost_tracing(broker_url: str, api_url: str, timeout: float = 5.0) -> bool:
    """Whether the firehose (``amq.rabbitmq.trace``) is on for the broker URL's vhost."""
    data = get_json(broker_url, api_url, f"/api/vhosts/{_vhost_path(broker_url)}", timeout)
    return bool(data.get("tracing"))


def set_vhost_tracing(broker_url: str, api_url: str, on: bool, timeout: float = 5.0) -> None:
    """Turn the firehose on or off for the broker URL's vhost (what ``rabbitmqctl
    trace_on``/``trace_off`` do). The vhost is read first and its description and tags
    sent back: a ``PUT`` without them would clear them."""
    path = f"/api/vhosts/{_vhost_path(broker_url)}"
    current = get_json(broker_url, api_url, path, timeout)
    document: dict[str, Any] = {"tracing": on}
    for name in ("description", "tags", "default_queue_type"):
        value = current.get(name)
        if name == "tags" and isinstance(value, list):
            value = ",".join(str(tag) for tag in value)
        if value not in (None, "", "undefined"):
            document[name] = value
    send_json(broker_url, api_url, "PUT", path, document, timeout)


class Binding(NamedTuple):
    """A queue bound to an exchange with a routing key (a topic pattern)."""

    key: str
    queue: str


def exchange_bindings(
    broker_url: str, api_url: str, exchange: str, timeout: float = 5.0
) -> list[Binding]:
    """The queues bound to ``exchange`` (bindings to other exchanges left out)."""
    import urllib.parse

    name = urllib.parse.quote(exchange, safe="") or "amq.default"
    path = f"/api/exchanges/{_vhost_path(broker_url)}/{name}/bindings/source"
    data = get_json(broker_url, api_url, path, timeout)
    return [
        Binding(str(item.get("routing_key", "")), str(item["destination"]))
        for item in data
        if item.get("destination_type") == "queue"
    ]


def queue_consumers(broker_url: str, api_url: str, timeout: float = 5.0) -> dict[str, list[str]]:
    """Queue name → the hosts (peer addresses) its consumers connect from, one per
    consumer, for the broker URL's vhost."""
    data = get_json(broker_url, api_url, f"/api/consumers/{_vhost_path(broker_url)}", timeout)
    hosts: dict[str, list[str]] = {}
    for consumer in data:
        queue = (consumer.get("queue") or {}).get("name")
        channel = consumer.get("channel_details") or {}
        if queue is not None:
            hosts.setdefault(str(queue), []).append(str(channel.get("peer_host") or "?"))
    return hosts
