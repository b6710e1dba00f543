"""``Client(transport=...)``: a transport of your own, plugged in; and the size limit."""

from __future__ import annotations

import uuid

import pytest

from vincent_core import Client, Message, MessageTooLarge, Vincent
from vincent_core.transport.memory import MemoryTransport


async def test_a_client_uses_the_transport_it_is_given_and_leaves_it_open() -> None:
    url = f"memory://plugged-{uuid.uuid4().hex[:8]}"
    app = Vincent(url, exchange="x")

    @app.listen("math.double")
    async def double(msg: Message) -> int:
        return int(msg["n"]) * 2

    transport = MemoryTransport(url)
    async with app.running():
        async with Client(exchange="x", transport=transport) as client:
            assert client.transport is transport
            assert await client.call("math.double", {"n": 21}, timeout=5) == 42
            assert transport.registrations()[2] == 1
        assert transport.state == "connected"  # the caller's to close
        assert transport.registrations() == (0, 0, 0)
        async with Client(exchange="x", transport=transport) as again:
            assert await again.call("math.double", {"n": 1}, timeout=5) == 2
    await transport.close()


async def test_a_body_over_max_body_is_refused_before_connecting() -> None:
    client = Client("amqp://nobody@127.0.0.1:1/", exchange="", max_body=10)
    with pytest.raises(MessageTooLarge) as caught:
        await client.cast("k", {"blob": "x" * 20})
    assert caught.value.limit == 10 and caught.value.size > 10
    assert client.state == "closed"
