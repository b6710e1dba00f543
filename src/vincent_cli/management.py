"""The RabbitMQ management HTTP API, for what AMQP cannot tell (listing queues, bindings).

One place sends requests to it, so that one place decides which credentials go where:

1. credentials in the API URL itself (``http://user:password@host:15672``) go there;
2. else ``VINCENT_API_USER`` / ``VINCENT_API_PASSWORD``, unless the API URL comes from a
   configuration file found in a parent directory;
3. else the broker URL's user and password, only when the API is on the broker's own
   host (one of them, for a cluster), and never to an API URL that a parent
   directory's configuration file names for a broker URL it did not give;
4. else nothing is sent and :class:`ManagementRefused` says what to do.

And never in clear text: an ``http://`` API with an ``amqps://`` broker is refused unless
the API URL was given on the command line (``--api``), where the user chose it.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from vincent_cli.exit_codes import CommandError

if TYPE_CHECKING:
    from vincent_cli.settings import Settings

__all__ = [
    "ApiAccess",
    "Binding",
    "ManagementRefused",
    "api_access",
    "exchange_bindings",
    "get_json",
    "queue_consumers",
    "send_json",
    "set_vhost_tracing",
    "vhost_of",
    "vhost_tracing",
]


class ManagementRefused(CommandError):
    """vincent will not send credentials to this management API (exit 2)."""


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """Where requests go and with which credentials (``base`` carries none)."""

    base: str
    user: str
    password: str
    #: where the credentials came from, for messages: "the API URL", "VINCENT_API_USER"...
    credentials_from: str


def _split(url: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        from vincent_core.config import mask_url

        raise CommandError(f"bad management API URL {mask_url(url)}: {exc}") from None
    return parts


def _host(parts: urllib.parse.SplitResult) -> str:
    return (parts.hostname or "").rstrip(".").lower()


def api_access(settings: Settings) -> ApiAccess:
    """How to reach ``settings.api``, or :class:`ManagementRefused` (see the module doc)."""
    from vincent_core.config import mask_url

    if not settings.api:
        raise CommandError("no management API URL: pass --api URL or set VINCENT_API_URL")
    api = _split(settings.api)
    shown = mask_url(settings.api)
    if api.scheme.lower() not in ("http", "https") or not api.hostname:
        raise CommandError(f"bad management API URL {shown}: use http://host:15672 or https://")
    brokers = [
        urllib.parse.urlsplit(part.strip())
        for part in settings.url.split(",")
        if part.strip() and "://" in part
    ]
    origin = settings.origin("api")
    if (
        api.scheme.lower() == "http"
        and any(b.scheme.lower() == "amqps" for b in brokers)
        and origin != "flag"
    ):
        raise ManagementRefused(
            f"refusing to send credentials in clear text to {shown}: the broker is amqps://",
            hint="hint: use https:// for the management API, or pass --api URL on the "
            "command line to accept plain http://",
        )
    netloc = _host(api) if ":" not in _host(api) else f"[{_host(api)}]"
    if api.port:
        netloc += f":{api.port}"
    base = urllib.parse.urlunsplit(api._replace(netloc=netloc, query="", fragment=""))
    base = base.rstrip("/")
    if api.username is not None:
        return ApiAccess(
            base,
            urllib.parse.unquote(api.username),
            urllib.parse.unquote(api.password or ""),
            "the API URL",
        )
    from_parent = origin == "parent file"
    if settings.api_user and not from_parent:
        return ApiAccess(base, settings.api_user, settings.api_password or "", "VINCENT_API_USER")
    if from_parent and settings.origin("url") != "parent file":
        where = settings.sources.get("api", "")
        raise ManagementRefused(
            f"not sending credentials to {shown}: it comes from {where}, a configuration "
            "file in a parent directory, which cannot redirect credentials",
            hint="hint: pass --api URL or set VINCENT_API_URL, or give the URL its own "
            "user:password@",
        )
    for broker in brokers:
        if _host(broker) and _host(broker) == _host(api):
            return ApiAccess(
                base,
                urllib.parse.unquote(broker.username or "guest"),
                urllib.parse.unquote(broker.password or "guest"),
                "the broker URL",
            )
    raise ManagementRefused(
        f"not sending the broker's credentials to {shown}: it is not on the broker's host",
        hint="hint: give the management API its own credentials: user:password@ in its URL, "
        "or VINCENT_API_USER and VINCENT_API_PASSWORD",
    )


def vhost_of(broker_url: str) -> str:
    """The virtual host a broker URL names (``/`` when it names none)."""
    path = urllib.parse.urlsplit(broker_url.split(",")[0]).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def get_json(settings: Settings, path: str, timeout: float = 5.0) -> Any:
    """``GET {api}{path}`` and its decoded JSON; ``path`` starts with ``/api/``.

    Raises :class:`ManagementRefused` before sending anything when the credentials may
    not go there, and ``OSError`` (``urllib.error.URLError``) or ``ValueError`` when the
    API cannot be reached or answers something else than JSON.
    """
    import json

    return json.loads(_request(settings, "GET", path, None, timeout) or b"null")


def send_json(
    settings: Settings, method: str, path: str, document: Any, timeout: float = 5.0
) -> None:
    """``PUT``/``POST``/``DELETE`` ``{api}{path}`` with ``document`` as its JSON body
    (same credential rules and errors as :func:`get_json`)."""
    _request(settings, method, path, document, timeout)


def _request(settings: Settings, method: str, path: str, document: Any, timeout: float) -> bytes:
    import base64
    import json
    import urllib.error
    import urllib.request

    access = api_access(settings)
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(f"{access.base}{path}", data=data, method=method)
    token = base64.b64encode(f"{access.user}:{access.password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _opener().open(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise CommandError(
                f"the management API at {access.base} refused user {access.user!r} "
                f"(from {access.credentials_from}): HTTP {exc.code}"
            ) from None
        raise


def _opener() -> Any:
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirect to another host would carry the Authorization header along.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirect)


def _vhost_path(settings: Settings) -> str:
    return urllib.parse.quote(vhost_of(settings.url), safe="")


def vhost_tracing(settings: Settings, timeout: float = 5.0) -> bool:
    """Whether the firehose (``amq.rabbitmq.trace``) is on for the broker URL's vhost."""
    data = get_json(settings, f"/api/vhosts/{_vhost_path(settings)}", timeout)
    return bool(data.get("tracing"))


def set_vhost_tracing(settings: Settings, on: bool, timeout: float = 5.0) -> None:
    """Turn the firehose on or off for the broker URL's vhost (what ``rabbitmqctl
    trace_on``/``trace_off`` do). The vhost is read first and its description and tags
    sent back: a ``PUT`` without them would clear them."""
    path = f"/api/vhosts/{_vhost_path(settings)}"
    current = get_json(settings, path, timeout)
    document: dict[str, Any] = {"tracing": on}
    for name in ("description", "tags", "default_queue_type"):
        value = current.get(name)
        if name == "tags" and isinstance(value, list):
            value = ",".join(str(tag) for tag in value)
        if value not in (None, "", "undefined"):
            document[name] = value
    send_json(settings, "PUT", path, document, timeout)


class Binding(NamedTuple):
    """A queue bound to an exchange with a routing key (a topic pattern)."""

    key: str
    queue: str


def exchange_bindings(settings: Settings, exchange: str, timeout: float = 5.0) -> list[Binding]:
    """The queues bound to ``exchange`` (bindings to other exchanges left out)."""
    name = urllib.parse.quote(exchange, safe="") or "amq.default"
    path = f"/api/exchanges/{_vhost_path(settings)}/{name}/bindings/source"
    data = get_json(settings, path, timeout)
    return [
        Binding(str(item.get("routing_key", "")), str(item["destination"]))
        for item in data
        if item.get("destination_type") == "queue"
    ]


def queue_consumers(settings: Settings, timeout: float = 5.0) -> dict[str, list[str]]:
    """Queue name → the hosts (peer addresses) its consumers connect from, one per
    consumer, for the broker URL's vhost."""
    data = get_json(settings, f"/api/consumers/{_vhost_path(settings)}", timeout)
    hosts: dict[str, list[str]] = {}
    for consumer in data:
        queue = (consumer.get("queue") or {}).get("name")
        channel = consumer.get("channel_details") or {}
        if queue is not None:
            hosts.setdefault(str(queue), []).append(str(channel.get("peer_host") or "?"))
    return hosts
