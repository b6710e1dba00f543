"""The one-shot publisher of `vincent cast` against RabbitMQ: confirms, returns, refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vincent_core import Client, NoRoute
from vincent_core.transport.base import QueueSpec
from vincent_core.transport.blocking import NotSent, publish_once
from vincent_core.wire.envelope import build_cast

pytestmark = pytest.mark.rabbitmq


async def test_a_confirmed_publish_arrives_as_built(
    broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    async with Client(broker_url, exchange=exchange) as client:
        await client.transport.declare_queue(QueueSpec(ns("q"), durable=False, auto_delete=True))
        await client.transport.bind(ns("q"), exchange, ns("k"))
        envelope = build_cast(exchange, ns("k"), {"a": "é" * 70_000})
        publish_once(broker_url, envelope)
        delivery = await client.take(ns("q"))
        assert delivery is not None
        assert delivery.envelope.body == envelope.body
        assert delivery.envelope.message_id == envelope.message_id
        assert delivery.envelope.delivery_mode == 2
        assert delivery.envelope.headers == {}
        await delivery.ack()


async def test_nothing_bound_is_no_route(
    broker_url: str, exchange: str, ns: Callable[[str], str]
) -> None:
    async with Client(broker_url, exchange=exchange):
        with pytest.raises(NoRoute, match=ns("nobody")):
            publish_once(broker_url, build_cast(exchange, ns("nobody"), {}))


def test_refusals_are_not_sent(broker_url: str, ns: Callable[[str], str]) -> None:
    envelope = build_cast(ns("missing-exchange"), "k", {})
    with pytest.raises(NotSent):
        publish_once(broker_url, envelope)
    wrong_password = broker_url.replace("guest:guest", "guest:wrong")
    with pytest.raises(NotSent):
        publish_once(wrong_password, build_cast("", "k", {}))
    with pytest.raises(NotSent):
        publish_once("amqp://guest:guest@127.0.0.1:1/", build_cast("", "k", {}))
