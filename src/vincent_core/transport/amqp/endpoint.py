"""Where and how to connect, from an ``amqp://`` or ``amqps://`` URL (pure, no I/O
except reading the TLS files the URL names).

The query parameters are the ones vincent documents (docs/api.md): ``heartbeat``,
``name``, ``auth`` (``plain`` or ``external``), ``frame_max``, ``channel_max``, and for
TLS ``cafile``, ``capath``, ``cadata``, ``certfile``, ``keyfile``, ``no_verify_ssl``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from vincent_core.transport.amqp.machine import Credentials

__all__ = ["Endpoint", "parse_url"]

_KNOWN = {
    "heartbeat",
    "name",
    "auth",
    "frame_max",
    "channel_max",
    "cafile",
    "capath",
    "cadata",
    "certfile",
    "keyfile",
    "no_verify_ssl",
    "timeout",
    "connection_timeout",
}

#: how ``no_verify_ssl`` may be written, as "1" (checks off) or "0" (checks on)
_FLAGS = {"1": "1", "true": "1", "yes": "1", "0": "0", "false": "0", "no": "0", "": "0"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One broker address and the handshake's parameters."""

    host: str
    port: int
    credentials: Credentials
    tls: bool = False
    #: the connection's name in the management UI (``?name=``), when the URL gives one
    name: str | None = None
    tls_options: dict[str, str] = field(default_factory=dict)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for ``amqps://`` (``None`` for plain ``amqp://``)."""
        if not self.tls:
            return None
        options = self.tls_options
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=options.get("cafile"),
            capath=options.get("capath"),
            cadata=options.get("cadata"),
        )
        if options.get("certfile"):
            context.load_cert_chain(options["certfile"], options.get("keyfile"))
        if options.get("no_verify_ssl") == "1":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _int(query: dict[str, str], name: str) -> int | None:
    if name not in query:
        return None
    try:
        value = int(query[name])
    except ValueError:
        raise ValueError(f"{name}={query[name]!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def parse_url(url: str) -> Endpoint:
    """The endpoint ``url`` names. Raises ``ValueError`` for what is not an AMQP URL
    or an option with a bad value."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("amqp", "amqps"):
        raise ValueError(f"the scheme must be amqp:// or amqps://, not {parts.scheme or 'none'}")
    tls = scheme == "amqps"
    try:
        port = parts.port or (5671 if tls else 5672)
    except ValueError:
        # (urllib's own message quotes the text after the colon: a password, maybe)
        raise ValueError("the port is not a number from 1 to 65535") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - _KNOWN)
    if unknown:
        raise ValueError(f"unknown URL option {', '.join(unknown)}")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    auth = query.get("auth", "plain").upper()
    if auth not in ("PLAIN", "EXTERNAL"):
        raise ValueError(f"auth={query['auth']!r}: vincent logs in with plain or external")
    heartbeat = _int(query, "heartbeat")
    credentials = Credentials(
        user=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        vhost=unquote(path) or "/",
        mechanism=auth,
        heartbeat=60 if heartbeat is None else heartbeat,
        frame_max=_int(query, "frame_max") or 0,
        channel_max=_int(query, "channel_max") or 0,
    )
    if "no_verify_ssl" in query:
        flag = query["no_verify_ssl"].strip().lower()
        if flag not in _FLAGS:
            raise ValueError(f"no_verify_ssl={query['no_verify_ssl']!r}: use 1 or 0")
        query["no_verify_ssl"] = _FLAGS[flag]
    tls_options: dict[str, str] = {
        key: query[key]
        for key in ("cafile", "capath", "cadata", "certfile", "keyfile", "no_verify_ssl")
        if key in query
    }
    return Endpoint(
        host=parts.hostname or "localhost",
        port=port,
        credentials=credentials,
        tls=tls,
        name=query.get("name"),
        tls_options=tls_options,
    )
