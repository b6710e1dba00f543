"""What happens to a message whose handler did not succeed: retry, hand-off, dead letter.

Pure decisions and envelope builders; the dispatcher publishes what these return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from vincent_core.wire.copies import (
    ORIGINAL_USER_HEADER,
    cut_text,
    error_text,
    error_traceback,
    without_user_id,
)
from vincent_core.wire.deadlines import expiration_ms
from vincent_core.wire.envelope import PERSISTENT, Envelope
from vincent_core.wire.replies import error_type_name
from vincent_core.wire.routing import retry_queue_name

__all__ = [
    "ATTEMPTS_HEADER",
    "DEAD_HEADERS",
    "DEFAULT_MAX_REJECTS",
    "DEFAULT_RETRY_DELAYS",
    "PARKED_HEADER",
    "REJECTED_BY_HEADER",
    "DeadReason",
    "attempts_of",
    "build_dead_letter",
    "build_handoff",
    "build_parked",
    "build_retry",
    "next_retry_delay",
    "parked_token",
    "reject_is_final",
    "rejected_by",
    "restore_dead_letter",
    "restore_route",
    "routed_back",
]

DeadReason = Literal["error", "undecodable", "rejected", "too-large", "invalid"]

ATTEMPTS_HEADER = "x-vincent-attempts"
PARKED_HEADER = "x-vincent-parked"
REJECTED_BY_HEADER = "x-vincent-rejected-by"
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
DEFAULT_MAX_REJECTS = 5

DEAD_HEADERS = (
    "x-vincent-original-exchange",
    "x-vincent-original-key",
    "x-vincent-queue",
    "x-vincent-error-type",
    "x-vincent-error-message",
    "x-vincent-error-traceback",
    "x-vincent-attempts",
    "x-vincent-dead-at",
    "x-vincent-reason",
    ORIGINAL_USER_HEADER,
)
# Headers RabbitMQ adds when a message passes through a dead-letter exchange (our retry
# queue); a replayed dead letter should start clean.
_BROKER_HEADERS = (
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, bytes | str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def attempts_of(headers: Mapping[str, Any]) -> int:
    """How many times this message was handled and failed before."""
    return max(0, _int(headers.get(ATTEMPTS_HEADER)))


def next_retry_delay(failed_attempts: int, retries: int, delays: Sequence[float]) -> float | None:
    """The delay before the next try after ``failed_attempts`` failures, or ``None`` when
    the retries are used up (the message goes to the dead-letter queue).

    The last delay repeats when ``retries`` outnumbers ``delays``.
    """
    if failed_attempts > retries:
        return None
    if not delays:
        return 0.0
    return float(delays[min(max(failed_attempts, 1), len(delays)) - 1])


ORIGINAL_EXCHANGE = "x-vincent-original-exchange"
ORIGINAL_KEY = "x-vincent-original-key"


def _remember_route(envelope: Envelope, headers: dict[str, Any]) -> None:
    # Retries and hand-offs travel through the default exchange, addressed to a queue;
    # the original exchange and key ride along so the handler still sees the real key.
    headers.setdefault(ORIGINAL_EXCHANGE, envelope.exchange)
    headers.setdefault(ORIGINAL_KEY, envelope.routing_key)


def routed_back(envelope: Envelope, queue: str) -> bool:
    """Whether ``envelope`` came the way vincent's own copies return to ``queue``: from
    the default exchange, addressed to that queue by name."""
    return envelope.exchange == "" and envelope.routing_key == queue


def restore_route(envelope: Envelope, queue: str) -> Envelope:
    """The envelope with the exchange and key it was first published with.

    A retried or handed-off copy arrives through the default exchange addressed to
    ``queue``, carrying its original route in ``x-vincent-original-*``. Those headers
    are believed only on such a message: on any other one, anybody could have set them
    (to make a handler see another key, or a dead-letter replay go elsewhere), so they
    are dropped and the message keeps the route it arrived with.
    """
    headers = envelope.headers
    if ORIGINAL_KEY not in headers and ORIGINAL_EXCHANGE not in headers:
        return envelope
    headers = dict(headers)
    exchange = headers.pop(ORIGINAL_EXCHANGE, envelope.exchange)
    key = headers.pop(ORIGINAL_KEY, envelope.routing_key)
    if not routed_back(envelope, queue):
        return envelope.with_changes(headers=headers)
    return envelope.with_changes(
        exchange=_text(exchange),
        routing_key=_text(key),
        headers=headers,
    )


def _text(value: Any) -> str:
    return (
        bytes(value).decode(errors="replace")
        if isinstance(value, bytes | bytearray)
        else str(value)
    )


def _copy_headers(envelope: Envelope) -> dict[str, Any]:
    headers = {k: v for k, v in envelope.headers.items() if k not in _BROKER_HEADERS}
    without_user_id(envelope, headers)
    return headers


def build_retry(envelope: Envelope, queue: str, delay: float, attempts: int) -> Envelope:
    """A copy bound for the queue's retry companion, where it waits ``delay`` seconds and
    then dead-letters back onto ``queue``."""
    headers = _copy_headers(envelope)
    headers[ATTEMPTS_HEADER] = attempts
    _remember_route(envelope, headers)
    return envelope.with_changes(
        exchange="",
        routing_key=retry_queue_name(queue),
        headers=headers,
        expiration=expiration_ms(delay),
        delivery_mode=PERSISTENT,
        user_id=None,
    )


def build_dead_letter(
    envelope: Envelope,
    *,
    dead_letter_queue: str,
    queue: str,
    reason: DeadReason,
    attempts: int,
    error: BaseException | None = None,
    message: str | None = None,
    now: dt.datetime | None = None,
    extra_headers: Mapping[str, Any] | None = None,
) -> Envelope:
    """The copy that goes to the dead-letter queue, saying where it came from and why
    (``extra_headers`` add to, or override, the ``x-vincent-*`` ones).

    The error's message and traceback are cut to ``MAX_ERROR_TEXT`` bytes each.
    """
    headers = _copy_headers(envelope)
    when = now or dt.datetime.now(dt.UTC)
    if message is None:
        message = error_text(error) if error is not None else ""
    headers.update(
        {
            ORIGINAL_EXCHANGE: envelope.exchange,
            ORIGINAL_KEY: envelope.routing_key,
            "x-vincent-queue": queue,
            "x-vincent-error-type": error_type_name(error) if error is not None else reason,
            "x-vincent-error-message": cut_text(message),
            "x-vincent-error-traceback": (
                cut_text(error_traceback(error)) if error is not None else ""
            ),
            ATTEMPTS_HEADER: attempts,
            "x-vincent-dead-at": when.isoformat(),
            "x-vincent-reason": reason,
        }
    )
    if extra_headers:
        headers.update(extra_headers)
    # The dead-letter queue keeps messages until someone looks: no expiry there.
    return envelope.with_changes(
        exchange="",
        routing_key=dead_letter_queue,
        headers=headers,
        expiration=None,
        delivery_mode=PERSISTENT,
        user_id=None,
    )


def _broker_death(headers: Mapping[str, Any]) -> tuple[str, str] | None:
    """Exchange and key from RabbitMQ's own ``x-death`` (a quorum queue's delivery
    limit, or a queue TTL with a dead-letter exchange)."""
    deaths = headers.get("x-death")
    if not isinstance(deaths, list | tuple) or not deaths or not isinstance(deaths[-1], Mapping):
        return None
    first = deaths[-1]
    keys = first.get("routing-keys") or []
    if not keys:
        return None
    exchange, key = first.get("exchange", ""), keys[0]
    return (
        exchange.decode() if isinstance(exchange, bytes) else str(exchange),
        key.decode() if isinstance(key, bytes) else str(key),
    )


def restore_dead_letter(dead: Envelope) -> Envelope:
    """The original message back from a dead letter, ready to publish again."""
    headers = {
        k: v
        for k, v in dead.headers.items()
        if k not in DEAD_HEADERS
        and k not in _BROKER_HEADERS
        and k not in (REJECTED_BY_HEADER, PARKED_HEADER)
    }
    if ORIGINAL_KEY in dead.headers:
        exchange = dead.headers.get(ORIGINAL_EXCHANGE, "")
        key = dead.headers[ORIGINAL_KEY]
        route = (
            exchange.decode() if isinstance(exchange, bytes) else str(exchange),
            key.decode() if isinstance(key, bytes) else str(key),
        )
    else:
        route = _broker_death(dead.headers) or ("", dead.routing_key)
    return dead.with_changes(exchange=route[0], routing_key=route[1], headers=headers)


def rejected_by(headers: Mapping[str, Any]) -> list[str]:
    """The consumers that already rejected this message."""
    value = headers.get(REJECTED_BY_HEADER)
    if not isinstance(value, list | tuple):
        return []
    return [v.decode() if isinstance(v, bytes) else str(v) for v in value]


def reject_is_final(
    rejecters: Sequence[str], consumer_count: int, max_rejects: int = DEFAULT_MAX_REJECTS
) -> bool:
    """True when every consumer (or more than ``max_rejects`` in all) rejected it."""
    return len(set(rejecters)) >= max(1, consumer_count) or len(rejecters) >= max_rejects


def build_handoff(envelope: Envelope, queue: str, rejecters: Sequence[str]) -> Envelope:
    """A copy put back on ``queue`` (via the default exchange) for another consumer."""
    headers = _copy_headers(envelope)
    headers[REJECTED_BY_HEADER] = list(rejecters)
    _remember_route(envelope, headers)
    return envelope.with_changes(exchange="", routing_key=queue, headers=headers, user_id=None)


def build_parked(envelope: Envelope, queue: str, token: str) -> Envelope:
    """A copy put back at the end of ``queue`` while its outcome's own copy cannot be
    placed (a capped or missing helper queue): ``token`` finds that outcome again."""
    headers = _copy_headers(envelope)
    headers[PARKED_HEADER] = token
    _remember_route(envelope, headers)
    return envelope.with_changes(exchange="", routing_key=queue, headers=headers, user_id=None)


def parked_token(envelope: Envelope, queue: str) -> tuple[str | None, Envelope]:
    """The token of a parked copy routed back to ``queue``, and the envelope without
    it (a token on any other message is dropped, never believed)."""
    if PARKED_HEADER not in envelope.headers:
        return None, envelope
    headers = dict(envelope.headers)
    token = headers.pop(PARKED_HEADER)
    stripped = envelope.with_changes(headers=headers)
    if not routed_back(envelope, queue) or not isinstance(token, str):
        return None, stripped
    return token, stripped
