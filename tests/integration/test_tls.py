"""amqps:// against the private node's TLS listener, with a CA made at test time."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from vincent_core import Client, Message, Vincent
from vincent_core.errors import ConnectionFailed

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


async def test_cast_and_call_over_tls(rabbit_tls_node: Any, exchange: str, ns) -> None:
    files = rabbit_tls_node.tls_files
    url = (
        f"{rabbit_tls_node.tls_url}?cafile={quote(str(files.ca))}"
        f"&certfile={quote(str(files.cert))}&keyfile={quote(str(files.key))}"
    )
    app = Vincent(url, exchange=exchange)

    @app.listen(ns("secure"))
    async def secure(msg: Message) -> object:
        return msg.body

    async with app.running(), Client(url, exchange=exchange) as client:
        assert await client.call(ns("secure"), {"tls": True}) == {"tls": True}
        assert "guest:***@" in client.masked_url


async def test_tls_without_the_ca_is_refused_with_a_clear_error(rabbit_tls_node: Any) -> None:
    with pytest.raises(ConnectionFailed, match="cannot connect") as info:
        await Client(rabbit_tls_node.tls_url).connect()
    assert "guest:guest" not in str(info.value)
