"""Shared fixtures: a private RabbitMQ node for the session, unique names per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

pytest_plugins = ["tests.fixtures.rabbit"]


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/cluster/conftest.py: options must be known before collection.
    parser.addoption(
        "--run-cluster",
        action="store_true",
        help="run tests/cluster (a private 3-node RabbitMQ cluster; make test-cluster)",
    )


@pytest.fixture
def ns() -> Callable[[str], str]:
    """Prefix names with a per-test token so tests never share queues or keys."""
    token = f"t{uuid.uuid4().hex[:8]}"

    def name(suffix: str = "") -> str:
        return f"{token}.{suffix}" if suffix else token

    return name


@pytest.fixture
def exchange(ns: Callable[[str], str]) -> str:
    """A fresh exchange name for this test."""
    return ns("x")
