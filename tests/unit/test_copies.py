"""Copies vincent publishes: error texts cut, frames fitted, user_id moved, route rule."""

from __future__ import annotations

import pytest

from vincent_core.wire.copies import (
    MAX_ERROR_TEXT,
    CopyTooLarge,
    cut_text,
    error_text,
    error_traceback,
    fit_frame,
    header_frame_size,
)
from vincent_core.wire.envelope import Envelope, build_cast
from vincent_core.wire.failures import (
    build_dead_letter,
    build_handoff,
    build_parked,
    build_retry,
    parked_token,
    restore_route,
)
from vincent_core.wire.routing import retry_queue_name


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_cut_text_keeps_short_text_and_marks_long_text() -> None:
    assert cut_text("short") == "short"
    cut = cut_text("é" * 10_000)
    assert len(cut.encode()) <= MAX_ERROR_TEXT
    assert cut.endswith("[cut: 20000 bytes in all]")
    assert len(cut_text("x" * 100, 10).encode()) <= 10


def test_error_text_and_traceback_never_raise() -> None:
    with pytest.raises(Unprintable) as caught:
        raise Unprintable()
    assert error_text(caught.value) == "<Unprintable: str() failed with RuntimeError>"
    assert "Unprintable" in error_traceback(caught.value)


def test_a_dead_letter_of_a_huge_error_fits_the_frame() -> None:
    original = build_cast("x", "k", {}, headers={"keep": "me"})
    dead = build_dead_letter(
        original,
        dead_letter_queue="dead",
        queue="k",
        reason="error",
        attempts=1,
        error=ValueError("x" * 1_000_000),
    )
    assert len(dead.headers["x-vincent-error-message"].encode()) <= MAX_ERROR_TEXT
    small = fit_frame(dead, 4096)
    assert header_frame_size(small) <= 4096
    assert small.headers["keep"] == "me"
    with pytest.raises(CopyTooLarge):
        fit_frame(dead, 200)


def test_copies_move_user_id_into_a_header() -> None:
    original = build_cast("x", "k", {})
    original.user_id = "alice"
    for copy in (
        build_retry(original, "k", 1.0, 1),
        build_handoff(original, "k", ["w1"]),
        build_parked(original, "k", "token"),
        build_dead_letter(original, dead_letter_queue="d", queue="k", reason="error", attempts=1),
    ):
        assert copy.user_id is None
        assert copy.headers["x-vincent-original-user"] == "alice"


def test_the_original_route_is_believed_only_on_copies_routed_back() -> None:
    spoof = {"x-vincent-original-key": "admin.shutdown", "x-vincent-original-exchange": "amq.topic"}
    foreign = Envelope("vincent", "public.hello", b"{}", headers=dict(spoof, other=1))
    restored = restore_route(foreign, "public.hello")
    assert (restored.exchange, restored.routing_key) == ("vincent", "public.hello")
    assert restored.headers == {"other": 1}
    # Through the default exchange, but to another queue: not ours either.
    elsewhere = restore_route(Envelope("", "other", b"", headers=dict(spoof)), "public.hello")
    assert elsewhere.routing_key == "other" and not elsewhere.headers
    retry = build_retry(Envelope("vincent", "public.hello", b"{}"), "q", 1.0, 1)
    back = restore_route(retry.with_changes(routing_key="q"), "q")
    assert (back.exchange, back.routing_key) == ("vincent", "public.hello")


def test_a_parked_token_counts_only_on_the_way_back() -> None:
    parked = build_parked(Envelope("vincent", "k", b"{}"), "q", "tok")
    assert parked_token(parked, "q")[0] == "tok"
    token, stripped = parked_token(parked.with_changes(exchange="vincent"), "q")
    assert token is None and "x-vincent-parked" not in stripped.headers


def test_retry_queue_names_fit_amqp() -> None:
    assert retry_queue_name("jobs") == "jobs.retry"
    long_a, long_b = "a" * 250, "a" * 249 + "b"
    for name in (long_a, long_b, "é" * 127):
        retry = retry_queue_name(name)
        assert len(retry.encode()) <= 255 and retry.endswith(".retry")
    assert retry_queue_name(long_a) != retry_queue_name(long_b)
