"""Fixtures of the behaviour suite: every test runs on RabbitMQ and on memory://.

``broker_url`` (overriding the RabbitMQ-only one of the root conftest) is the URL of the
broker under test; ``broker`` adds its kind and clock. On memory:// each test gets a
broker of its own (``memory://<token>``, forgotten afterwards) whose clock is virtual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.behaviour.support import Broker
from vincent_core.transport.memory import VirtualClock, get_broker, reset_broker


@pytest.fixture(params=[pytest.param("rabbitmq", marks=pytest.mark.rabbitmq), "memory"])
def broker(request: pytest.FixtureRequest, ns: Callable[..., str]) -> Iterator[Broker]:
    """The broker under test."""
    if request.param == "rabbitmq":
        yield Broker("rabbitmq", request.getfixturevalue("rabbit_node").url)
        return
    name = ns()
    clock = VirtualClock()
    get_broker(name, clock=clock)
    try:
        yield Broker("memory", f"memory://{name}", clock)
    finally:
        reset_broker(name)


@pytest.fixture
def broker_url(broker: Broker) -> str:
    """URL of the broker under test."""
    return broker.url
