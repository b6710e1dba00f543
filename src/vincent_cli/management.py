"""The RabbitMQ management HTTP API, for what AMQP cannot tell (listing queues, bindings).

One place sends requests to it, so that one place decides which credentials go where.
"""

from __future__ import annotations

from typing import Any

__all__ = ["api_credentials", "get_json", "vhost_of"]


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
