"""Nested calls: deadlines are inherited and a chain cannot deadlock its worker."""

from __future__ import annotations

import pytest

from vincent_core import Client, Message, Vincent
from vincent_core.wire.deadlines import DEADLINE_HEADER
from vincent_core.wire.trace import TRACE_HEADER, Trace


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_chain_a_b_c_with_concurrency_one(
    broker_url: str, exchange: str, ns, kind: str
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    a, b, c = ns("a"), ns("b"), ns("c")

    if kind == "async":

        @app.listen(a)
        async def handle_a(msg: Message) -> object:
            return {"a": await msg.call(b, msg.body)}

        @app.listen(b)
        async def handle_b(msg: Message) -> object:
            return {"b": await msg.call(c, msg.body)}

    else:

        @app.listen(a)
        def handle_a_sync(msg: Message) -> object:
            return {"a": msg.call(b, msg.body)}

        @app.listen(b)
        def handle_b_sync(msg: Message) -> object:
            return {"b": msg.call(c, msg.body)}

    @app.listen(c)
    def handle_c(msg: Message) -> object:
        return {"c": msg.body, "deadline": msg.headers[DEADLINE_HEADER]}

    async with app.running(concurrency=1), Client(broker_url, exchange=exchange) as client:
        results = [await client.call(a, i, timeout=20) for i in range(3)]
    assert [r["a"]["b"]["c"] for r in results] == [0, 1, 2]


async def test_nested_call_inherits_the_callers_deadline(
    broker_url: str, exchange: str, ns
) -> None:
    app = Vincent(broker_url, exchange=exchange)
    seen: dict[str, int] = {}

    @app.listen(ns("outer"))
    async def outer(msg: Message) -> object:
        seen["outer"] = msg.headers[DEADLINE_HEADER]
        # Asks for a minute; may only get what the outer caller has left.
        return await msg.call(ns("inner"), {}, timeout=60)

    @app.listen(ns("inner"))
    async def inner(msg: Message) -> object:
        seen["inner"] = msg.headers[DEADLINE_HEADER]
        return int(msg.envelope.expiration or 0)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        expiration = await client.call(ns("outer"), {}, timeout=5)
    assert seen["inner"] == seen["outer"]
    assert expiration <= 5000


async def test_trace_follows_nested_calls(broker_url: str, exchange: str, ns) -> None:
    app = Vincent(broker_url, exchange=exchange)
    seen: dict[str, object] = {}

    @app.listen(ns("a"))
    async def handle_a(msg: Message) -> object:
        seen["a"] = msg.trace
        return await msg.call(ns("b"), {})

    @app.listen(ns("b"))
    def handle_b(msg: Message) -> object:
        seen["b"] = msg.trace
        return msg.call(ns("c"), {})

    @app.listen(ns("c"))
    async def handle_c(msg: Message) -> object:
        seen["c"] = msg.trace
        return msg.headers[TRACE_HEADER]

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        header = await client.call(ns("a"), {})
    trace_a, trace_c = seen["a"], seen["c"]
    assert isinstance(trace_a, Trace) and isinstance(trace_c, Trace)
    assert trace_c.id == trace_a.id == header["id"]
    assert trace_a.chain == ()
    assert trace_c.chain == (ns("a"), ns("b"))
