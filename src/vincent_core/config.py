"""Where the broker URL and exchange come from, and how a URL is shown safely."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEAD_LETTER_QUEUE",
    "DEFAULT_EXCHANGE",
    "DEFAULT_MAX_BODY",
    "DEFAULT_URL",
    "mask_text",
    "mask_url",
    "resolve_connect_timeout",
    "resolve_exchange",
    "resolve_url",
]

DEFAULT_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_EXCHANGE = "vincent"
DEFAULT_DEAD_LETTER_QUEUE = "vincent.dead"
#: seconds to connect and finish the AMQP handshake (``VINCENT_CONNECT_TIMEOUT``)
DEFAULT_CONNECT_TIMEOUT = 10.0
#: the largest body vincent sends or handles (the worker applies the same limit)
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def resolve_url(url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The broker URL: the argument, else ``VINCENT_BROKER_URL``, else ``AMQP_URL``, else
    the local default."""
    env = os.environ if environ is None else environ
    return url or env.get("VINCENT_BROKER_URL") or env.get("AMQP_URL") or DEFAULT_URL


def resolve_exchange(exchange: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The exchange name: the argument, else ``VINCENT_EXCHANGE``, else ``vincent``.

    An empty name, given or from the environment, is the AMQP default exchange: it is a
    choice, never replaced by the next source."""
    env = os.environ if environ is None else environ
    if exchange is not None:
        return exchange
    return env.get("VINCENT_EXCHANGE", DEFAULT_EXCHANGE)


def resolve_connect_timeout(
    timeout: float | None = None, environ: Mapping[str, str] | None = None
) -> float:
    """Seconds to connect: the argument, else ``VINCENT_CONNECT_TIMEOUT``, else 10."""
    if timeout is not None:
        return timeout
    env = os.environ if environ is None else environ
    text = env.get("VINCENT_CONNECT_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_CONNECT_TIMEOUT
    except ValueError:
        return DEFAULT_CONNECT_TIMEOUT
    return value if value > 0 else DEFAULT_CONNECT_TIMEOUT


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)
#: where another URL of a comma-separated cluster list starts
_NEXT_URL = re.compile(r",\s*(?=[a-z][a-z0-9+.-]*://)", re.I)
#: URLs (with a scheme, or ``user:password@host`` without one) inside free text
_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://\S*|[^\s/@:'\"(\[]+:\S*@\S*", re.I)
#: query parameters whose values are secrets
_SECRET_PARAMETER = re.compile(r"pass|secret|token|key_?password", re.I)
_MASK = "***"


def _mask_one(url: str) -> str:
    scheme = _SCHEME.match(url)
    head = scheme.group(0) if scheme else ""
    rest = url[len(head) :]
    # The authority ends where URL parsers (urllib, yarl) end it: at / ? or #.
    end = min([len(rest), *(found for stop in "/?#" if (found := rest.find(stop)) != -1)])
    authority, tail = rest[:end], rest[end:]
    at = authority.rfind("@")
    if at != -1:
        # The password runs from the first ":" of the user information to the last "@".
        userinfo, hostport = authority[:at], authority[at:]
        colon = userinfo.find(":")
        if colon != -1:
            authority = userinfo[: colon + 1] + _MASK + hostport
        return head + authority + _mask_query(tail)
    hostport = authority.rpartition("]")[2] if authority.startswith("[") else authority
    colon = hostport.find(":")
    if colon == -1 or hostport[colon + 1 :].isdigit():
        return head + authority + _mask_query(tail)
    # Not a port: a password without a host, or one with an unencoded / ? or # that
    # parsers cut short. Hide everything up to the last "@", where the host was meant.
    kept = authority[: len(authority) - len(hostport) + colon + 1]
    cut = tail.rfind("@")
    return head + kept + _MASK + (_mask_query(tail[cut:]) if cut != -1 else "")


def _mask_query(tail: str) -> str:
    path, mark, query = tail.partition("?")
    if not mark:
        return tail
    query, hash_mark, fragment = query.partition("#")
    parts = []
    for part in query.split("&"):
        name, equals, _value = part.partition("=")
        secret = equals and _SECRET_PARAMETER.search(name)
        parts.append(f"{name}={_MASK}" if secret else part)
    return f"{path}?{'&'.join(parts)}{hash_mark}{fragment}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print.

    Parsed as RabbitMQ clients parse it: the password runs from the first ``:`` of the
    user information to the last ``@`` before the path, so ``@`` and ``:`` inside it stay
    hidden; a URL without a scheme (``user:pw@host:5672``), comma-separated cluster
    lists, IPv6 hosts and percent-encoding are covered, and query parameters named like
    passwords are hidden too::

        >>> mask_url("amqp://app:p@ss:word@[::1]:5672/prod")
        'amqp://app:***@[::1]:5672/prod'
    """
    return "".join(
        _mask_one(part) if index % 2 == 0 else part
        for index, part in enumerate(_split_keeping(url))
    )


def _split_keeping(url: str) -> list[str]:
    """``url`` cut before every further URL of a cluster list, the separators kept."""
    pieces: list[str] = []
    start = 0
    for match in _NEXT_URL.finditer(url):
        pieces += [url[start : match.start()], match.group(0)]
        start = match.end()
    return [*pieces, url[start:]]


def mask_text(text: str) -> str:
    """``text`` (an error message, a log line, a traceback) with :func:`mask_url`
    applied to every URL in it."""
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)
