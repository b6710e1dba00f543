"""Envelopes and sessions for the console's unit tests."""

from __future__ import annotations

from typing import Any

from vincent_cli.console.session import Entry, Session
from vincent_core.wire.envelope import Envelope, build_call, build_cast


def cast(key: str, body: Any = None, **headers: Any) -> Envelope:
    return build_cast("x", key, {} if body is None else body, headers=headers)


def call(key: str, body: Any = None) -> Envelope:
    return build_call("x", key, {} if body is None else body, timeout=5, reply_to="amq.reply")


def session_with(*envelopes: Envelope, origin: Any = "seen") -> tuple[Session, list[Entry]]:
    session = Session(exchange="x", masked_url="amqp://guest:***@localhost/")
    return session, [session.record(envelope, origin) for envelope in envelopes]
