from __future__ import annotations

import datetime as dt

import pytest

from vincent_core.wire.envelope import build_cast
from vincent_core.wire.failures import (
    ATTEMPTS_HEADER,
    REJECTED_BY_HEADER,
    attempts_of,
    build_dead_letter,
    build_handoff,
    build_retry,
    next_retry_delay,
    reject_is_final,
    rejected_by,
    restore_dead_letter,
)


@pytest.mark.parametrize(("failed", "expected"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, None)])
def test_default_retry_schedule(failed: int, expected: float | None) -> None:
    assert next_retry_delay(failed, 3, (1.0, 2.0, 4.0)) == expected


def test_last_delay_repeats_and_zero_retries_dead_letters_at_once() -> None:
    assert next_retry_delay(5, 6, (1.0, 2.0)) == 2.0
    assert next_retry_delay(1, 0, (1.0,)) is None
    assert next_retry_delay(1, 2, ()) == 0.0


def test_retry_copy_goes_to_the_retry_queue_with_attempts() -> None:
    original = build_cast("vincent", "file.encrypt", {"a": 1}, ttl=60)
    original.headers["x-death"] = [{"count": 1}]
    retry = build_retry(original, "file.encrypt.queue", 2.0, 1)
    assert retry.exchange == ""
    assert retry.routing_key == "file.encrypt.queue.retry"
    assert retry.expiration == "2000"
    assert retry.headers[ATTEMPTS_HEADER] == 1
    assert "x-death" not in retry.headers
    assert retry.body == original.body
    assert attempts_of(retry.headers) == 1


def test_dead_letter_headers_and_restore() -> None:
    original = build_cast("vincent", "file.encrypt", {"a": 1}, headers={"trace": "t1"})
    try:
        raise KeyError("file")
    except KeyError as exc:
        dead = build_dead_letter(
            original,
            dead_letter_queue="vincent.dead",
            queue="q",
            reason="error",
            attempts=4,
            error=exc,
            now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        )
    assert dead.routing_key == "vincent.dead"
    assert dead.exchange == ""
    assert dead.expiration is None
    headers = dead.headers
    assert headers["x-vincent-original-exchange"] == "vincent"
    assert headers["x-vincent-original-key"] == "file.encrypt"
    assert headers["x-vincent-queue"] == "q"
    assert headers["x-vincent-error-type"] == "KeyError"
    assert headers["x-vincent-error-message"] == "'file'"
    assert "raise KeyError" in headers["x-vincent-error-traceback"]
    assert headers["x-vincent-attempts"] == 4
    assert headers["x-vincent-dead-at"] == "2026-01-02T00:00:00+00:00"
    assert headers["x-vincent-reason"] == "error"
    restored = restore_dead_letter(dead)
    assert (restored.exchange, restored.routing_key) == ("vincent", "file.encrypt")
    assert restored.headers == {"trace": "t1"}
    assert restored.body == original.body


def test_reject_bookkeeping() -> None:
    original = build_cast("x", "k", {})
    assert rejected_by(original.headers) == []
    handed = build_handoff(original, "q", ["w1"])
    assert handed.routing_key == "q"
    assert handed.headers[REJECTED_BY_HEADER] == ["w1"]
    assert rejected_by({REJECTED_BY_HEADER: [b"w1", "w2"]}) == ["w1", "w2"]
    assert not reject_is_final(["w1"], consumer_count=2)
    assert reject_is_final(["w1", "w2"], consumer_count=2)
    assert not reject_is_final(["w1", "w1"], consumer_count=2)
    assert reject_is_final(["w1"] * 5, consumer_count=2)
    assert reject_is_final(["w1"], consumer_count=0)
