"""``/healthz``, the connection-state gauge and `vincent health` know the ``blocked`` state."""

from __future__ import annotations

from types import SimpleNamespace

from vincent_core.metrics import _STATES, app_health


def _app(state: str) -> SimpleNamespace:
    return SimpleNamespace(client=SimpleNamespace(state=state), worker=SimpleNamespace(running=[]))


def test_a_blocked_worker_is_healthy_and_says_why() -> None:
    healthy, text = app_health(_app("blocked"))()
    assert healthy and "blocked" in text


def test_a_reconnecting_worker_is_not_healthy() -> None:
    assert app_health(_app("reconnecting"))() == (False, "connection reconnecting")


def test_the_gauge_has_a_blocked_state() -> None:
    assert "blocked" in _STATES


def test_vincent_health_names_a_blocked_broker_with_the_queues_problems() -> None:
    from vincent_cli.commands.health import BLOCKED, QueueHealth, unhealthy_reason

    queues = [QueueHealth("a", True, 0, 1), QueueHealth("b", True, 3, 0)]
    assert unhealthy_reason(queues) == "no consumers on b"
    assert unhealthy_reason(queues, blocked=True) == f"{BLOCKED}; no consumers on b"
    assert unhealthy_reason(queues[:1], blocked=True) == BLOCKED
    assert unhealthy_reason(queues[:1]) is None
