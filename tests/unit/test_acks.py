"""Runs of settled delivery tags become one multiple ack, and nothing else does."""

from __future__ import annotations

from vincent_core.transport.acks import MAX_ABOVE_GAP, Settlements
from vincent_core.transport.frames import ack_frame, reject_frame


def test_a_contiguous_run_is_one_multiple_ack() -> None:
    settle = Settlements(3)
    assert settle.ack(2) is True
    assert settle.ack(1) is False
    assert settle.ack(3) is False
    assert settle.frames() == ack_frame(3, 3, multiple=True)
    assert not settle.pending


def test_acks_above_a_gap_go_alone_until_the_gap_closes() -> None:
    settle = Settlements(1)
    for tag in (1, 2, 4, 5):
        settle.ack(tag)
    assert settle.frames() == ack_frame(1, 2, multiple=True) + ack_frame(1, 4) + ack_frame(1, 5)
    settle.ack(3)
    settle.ack(6)
    # 4 and 5 were acked already: the run 3..6 covers exactly 3 and 6.
    assert settle.frames() == ack_frame(1, 6, multiple=True)


def test_rejects_go_first_and_close_gaps() -> None:
    settle = Settlements(2)
    settle.ack(2)
    settle.reject(1, requeue=True)
    settle.ack(3)
    assert settle.frames() == reject_frame(2, 1, requeue=True) + ack_frame(2, 3, multiple=True)


def test_a_single_ack_in_a_run_stays_plain() -> None:
    settle = Settlements(2)
    settle.ack(1)
    assert settle.frames() == ack_frame(2, 1)


def test_a_tag_never_settled_ends_the_runs_without_growing_forever() -> None:
    settle = Settlements(1)
    for tag in range(2, MAX_ABOVE_GAP + 3):
        settle.ack(tag)
    settle.frames()
    assert not settle.tracking
    settle.ack(MAX_ABOVE_GAP + 3)
    settle.ack(1)
    assert settle.frames() == ack_frame(1, MAX_ABOVE_GAP + 3) + ack_frame(1, 1)
