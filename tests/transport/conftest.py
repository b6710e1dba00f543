"""The transport contract: one suite, run on ``AmqpTransport`` (a private RabbitMQ node)
and on ``MemoryTransport`` alike. What RabbitMQ does is the reference; the in-process
broker must agree with it on every test here.

Each test runs on the standard loop and on uvloop (the ``[speed]`` extra, which
``vincent serve`` and ``Vincent.run()`` pick when it is installed): uvloop's transports
are not ``asyncio.Transport`` subclasses, and the owned connection once refused them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from vincent_core import transport as transports
from vincent_core.transport.base import Transport
from vincent_core.transport.memory import reset_broker

Connect = Callable[[], Awaitable[Transport]]


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """pytest-asyncio's hook: every test of this suite on each loop."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    with contextlib.suppress(ImportError):
        import uvloop

        factories["uvloop"] = uvloop.new_event_loop
    return factories


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
