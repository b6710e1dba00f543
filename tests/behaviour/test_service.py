"""``Service`` classes: both handler kinds, ``active``, nested calls and reject."""

from __future__ import annotations

import asyncio

import pytest

from vincent_core import Client, Message, Rejected, Service, Vincent


async def test_service_model(broker_url: str, exchange: str, ns) -> None:
    events: asyncio.Queue[object] = asyncio.Queue()

    class FilePut(Service):
        bind_to = ns("file.put")
        active = "disk_not_full"

        def disk_not_full(self) -> bool:
            return True

        async def handle_cast(self) -> None:
            await events.put(("cast", self.params["file"]))

        def handle_call(self) -> object:
            return {"stored": self.params["file"], "nested": self.call(ns("echo"), 1)}

    class OnlyCall(Service):
        bind_to = ns("only.call")

        async def handle_call(self) -> object:
            if self.params.get("reject"):
                self.reject("nope")
            return "called"

    app = Vincent(broker_url, exchange=exchange)
    app.include(FilePut)
    app.include(OnlyCall)

    @app.listen(ns("echo"))
    async def echo(msg: Message) -> object:
        return msg.body

    routes = {route.key: route for route in app.routes()}
    assert routes[ns("file.put")].handler.endswith("FilePut")
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("file.put"), {"file": "a"}) == {"stored": "a", "nested": 1}
        await client.cast(ns("file.put"), {"file": "b"})
        assert await asyncio.wait_for(events.get(), 10) == ("cast", "b")
        # With one method only, it serves casts too.
        await client.cast(ns("only.call"), {})
        assert await client.call(ns("only.call"), {}) == "called"
        with pytest.raises(Rejected):
            await client.call(ns("only.call"), {"reject": True})
        assert app.worker is not None
        stats = app.worker.stats()[ns("only.call")]
    assert stats["handled"] == 2 and stats["rejected"] == 1


async def test_a_service_casts_from_its_handler(broker_url: str, exchange: str, ns) -> None:
    stored: asyncio.Queue[Message] = asyncio.Queue()

    class Store(Service):
        bind_to = ns("store")

        async def handle_cast(self) -> None:
            await self.cast(ns("stored"), {"file": self.params["file"]})

    app = Vincent(broker_url, exchange=exchange)
    app.include(Store, retries=0)

    @app.listen(ns("stored"))
    async def on_stored(msg: Message) -> None:
        await stored.put(msg)

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        await client.cast(ns("store"), {"file": "x"})
        event = await asyncio.wait_for(stored.get(), 10)
    assert event.body == {"file": "x"}
    assert event.trace.chain == (ns("store"),)
