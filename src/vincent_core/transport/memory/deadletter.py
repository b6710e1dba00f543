"""Dead-lettering as RabbitMQ does it (sans-io): the copy that goes to the dead-letter
exchange, its ``x-death`` history, and the cycle rule.

A dead-lettered message loses its ``expiration`` (so it does not expire again at once
in the next queue), is re-routed with the queue's ``x-dead-letter-routing-key`` or its
own routing key, and records why in ``x-death``: a list of tables, newest first, one per
(queue, reason) with a ``count``; ``x-first-death-*`` says where it died first. (RabbitMQ
3.13 added ``x-last-death-*``; the model is 3.10, the oldest version vincent supports.)
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from vincent_core.wire.envelope import Envelope

__all__ = ["DeathReason", "dead_letter", "is_cycle"]

DeathReason = Literal["expired", "rejected", "maxlen", "delivery_limit"]


def _text(value: Any) -> str:
    return bytes(value).decode() if isinstance(value, bytes | bytearray) else str(value)


def _deaths(headers: Mapping[str, Any]) -> list[dict[str, Any]]:
    deaths = headers.get("x-death")
    if not isinstance(deaths, list | tuple):
        return []
    return [dict(death) for death in deaths if isinstance(death, Mapping)]


def dead_letter(
    envelope: Envelope,
    *,
    queue: str,
    reason: DeathReason,
    exchange: str,
    routing_key: str | None,
    now: dt.datetime | None = None,
) -> Envelope:
    """The copy of ``envelope`` that ``queue`` dead-letters to ``exchange``.

    ``routing_key`` is the queue's ``x-dead-letter-routing-key`` (``None``: keep the
    message's own). The original is left untouched.
    """
    headers = copy.deepcopy(envelope.headers)
    deaths = _deaths(headers)
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    count = 1
    for index, entry in enumerate(deaths):
        if _text(entry.get("queue", "")) == queue and _text(entry.get("reason", "")) == reason:
            previous = entry.get("count", 0)
            count = (previous if isinstance(previous, int) else 0) + 1
            del deaths[index]
            break
    death: dict[str, Any] = {
        "count": count,
        "reason": reason,
        "queue": queue,
        "time": when,
        "exchange": envelope.exchange,
        "routing-keys": [envelope.routing_key],
    }
    if envelope.expiration is not None:
        death["original-expiration"] = envelope.expiration
    deaths.insert(0, death)
    headers["x-death"] = deaths
    if "x-first-death-queue" not in headers:
        headers["x-first-death-queue"] = queue
        headers["x-first-death-reason"] = reason
        headers["x-first-death-exchange"] = envelope.exchange
    return envelope.with_changes(
        exchange=exchange,
        routing_key=envelope.routing_key if routing_key is None else routing_key,
        expiration=None,
        headers=headers,
    )


def is_cycle(dead: Envelope, target_queue: str) -> bool:
    """Whether delivering the dead-lettered ``dead`` to ``target_queue`` closes a loop
    with no rejection in it: RabbitMQ drops the message for that queue instead of
    letting it circle for ever (a loop a consumer's reject is part of is allowed)."""
    for death in _deaths(dead.headers):
        if _text(death.get("reason", "")) == "rejected":
            return False
        if _text(death.get("queue", "")) == target_queue:
            return True
    return False
