"""Where the broker URL and exchange come from, and how a URL is shown safely."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = [
    "DEFAULT_DEAD_LETTER_QUEUE",
    "DEFAULT_EXCHANGE",
    "DEFAULT_URL",
    "mask_url",
    "resolve_exchange",
    "resolve_url",
]

DEFAULT_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_EXCHANGE = "vincent"
DEFAULT_DEAD_LETTER_QUEUE = "vincent.dead"

_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)@", re.I)


def resolve_url(url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The broker URL: the argument, else ``VINCENT_BROKER_URL``, else ``AMQP_URL``, else
    the local default."""
    env = os.environ if environ is None else environ
    return url or env.get("VINCENT_BROKER_URL") or env.get("AMQP_URL") or DEFAULT_URL


def resolve_exchange(exchange: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The exchange name: the argument, else ``VINCENT_EXCHANGE``, else ``vincent``."""
    env = os.environ if environ is None else environ
    if exchange is not None:
        return exchange
    return env.get("VINCENT_EXCHANGE") or DEFAULT_EXCHANGE


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (also in comma-separated lists)."""
    return _PASSWORD.sub(lambda m: f"{m['head']}***@", url)
