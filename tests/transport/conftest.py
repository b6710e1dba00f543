"""The transport contract: one suite, run on ``AmqpTransport`` (a private RabbitMQ node)
and on ``MemoryTransport`` alike. What RabbitMQ does is the reference; the in-process
broker must agree with it on every test here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from vincent_core import transport as transports
from vincent_core.transport.base import Transport
from vincent_core.transport.memory import reset_broker

Connect = Callable[[], Awaitable[Transport]]


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest) -> str:
    """The URL of the broker under test (``amqp``: the session's private node)."""
    if request.param == "amqp":
        node = request.getfixturevalue("rabbit_node")
        return str(node.url)
    name = f"memory://contract-{uuid.uuid4().hex[:8]}"
    reset_broker(name.removeprefix("memory://"))
    return name


@pytest.fixture
async def connect(broker: str) -> AsyncIterator[Connect]:
    """Opens transports to the broker under test; all are closed at the end."""
    opened: list[Transport] = []

    async def open_one() -> Transport:
        transport = transports.create(broker)
        await transport.connect()
        opened.append(transport)
        return transport

    yield open_one
    for transport in opened:
        await transport.close()


@pytest.fixture
async def transport(connect: Connect) -> Transport:
    """One connected transport to the broker under test."""
    return await connect()
