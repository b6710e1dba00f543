"""Running one handler or Service alone: fake messages, canned replies, recorded sends."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

import vincent_core
from vincent_core import Message, NoRoute, Rejected, RemoteError, Service
from vincent_core.errors import ConfigurationError, EncodeError
from vincent_core.testing import FakeClient, call_handler, call_service, fake_message


async def convert(msg: Message) -> dict[str, Any]:
    rate = await msg.call("rate.get", {"currency": msg["currency"]})
    await msg.cast("amount.converted", {"amount": msg["amount"] * rate})
    return {"amount": msg["amount"] * rate, "redelivered": msg.redelivered}


def convert_sync(msg: Message) -> dict[str, Any]:  # a plain def: msg.call blocks
    rate = msg.call("rate.get", {"currency": msg["currency"]})
    msg.cast("amount.converted", {"amount": msg["amount"] * rate})
    return {"amount": msg["amount"] * rate}


@pytest.mark.parametrize("handler", [convert, convert_sync], ids=["async", "sync"])
async def test_call_handler_records_sends_and_answers_calls(
    handler: Callable[[Message], object],
) -> None:
    run = await call_handler(
        handler,
        {"amount": 10, "currency": "EUR"},
        key="amount.convert",
        replies={"rate.get": lambda body: 2 if body["currency"] == "EUR" else 1},
    )
    assert run.result["amount"] == 20
    [request] = run.calls("rate.*")
    assert request.body == {"currency": "EUR"} and request.is_call
    # The nested call inherits the message's deadline and trace, as it would for real.
    assert request.headers["x-vincent-deadline"] > 0
    assert request.headers["x-vincent-trace"]["chain"] == ["amount.convert"]
    assert [c.body for c in run.casts()] == [{"amount": 20}]
    assert run.calls("other.#") == []


async def test_replies_can_be_errors_and_missing_ones_are_no_route() -> None:
    with pytest.raises(RemoteError, match="rates are down"):
        await call_handler(
            convert,
            {"amount": 1, "currency": "EUR"},
            replies={"rate.*": RemoteError("IOError", "rates are down")},
        )
    with pytest.raises(NoRoute, match=r"rate\.get"):
        await call_handler(convert, {"amount": 1, "currency": "EUR"})


async def test_async_replies_and_wire_round_trips() -> None:
    async def rate(body: object) -> tuple[int, int]:
        return (1, 2)

    async def handler(msg: Message) -> object:
        return await msg.call("rate.get", msg.body)

    run = await call_handler(handler, ("a", "b"), replies={"rate.get": rate})
    assert run.result == [1, 2]  # a tuple travels as a JSON list


async def test_what_cannot_travel_fails_as_it_would() -> None:
    async def returns_a_set(msg: Message) -> object:
        return {1, 2}

    with pytest.raises(EncodeError):
        await call_handler(returns_a_set, {})
    run = await call_handler(returns_a_set, {}, call=False)  # a cast's value is ignored
    assert run.result == {1, 2}


async def test_reject_and_exceptions() -> None:
    def picky(msg: Message) -> None:
        msg.reject("busy")

    async def broken(msg: Message) -> None:
        raise ZeroDivisionError("no")

    with pytest.raises(Rejected, match="busy") as info:
        await call_handler(picky, {}, key="job.run")
    assert info.value.key == "job.run"
    with pytest.raises(ZeroDivisionError):
        await call_handler(broken, {})


class Store(Service):
    bind_to = "file.store"

    async def handle_cast(self) -> None:
        await self.cast("file.stored", {"file": self.params["file"]})

    def handle_call(self) -> dict[str, Any]:
        size = self.call("file.size", {"file": self.params["file"]})
        return {"file": self.params["file"], "size": size, "key": self.message.key}


async def test_call_service_picks_the_method_like_the_dispatcher() -> None:
    run = await call_service(Store, {"file": "a"}, replies={"file.size": 3})
    assert run.result == {"file": "a", "size": 3, "key": "file.store"}
    cast = await call_service(Store, {"file": "b"}, call=False)
    assert cast.result is None
    assert [c.body for c in cast.casts("file.stored")] == [{"file": "b"}]
    other_key = await call_service(Store, {"file": "c"}, key="file.keep", replies={"#": 0})
    assert other_key.result["key"] == "file.keep"


def test_fake_message() -> None:
    message = fake_message({"x": (1, 2)}, key="a.b", call=True, headers={"h": 1})
    assert message.key == "a.b" and message["x"] == [1, 2]
    assert message.expects_reply and message.correlation_id
    assert message.deadline is not None and message.headers["h"] == 1
    assert not fake_message(b"raw").expects_reply
    assert fake_message(b"raw").body == b"raw"


async def test_a_fake_client_never_connects() -> None:
    client = FakeClient()
    with pytest.raises(ConfigurationError, match="does not connect"):
        await client.connect()
    assert await client.cast("a.b", {"n": 1})
    assert [m.key for m in client.sent] == ["a.b"]


def test_the_kit_stays_out_of_the_facade_and_imports_no_pytest() -> None:
    assert not any(name.lower().startswith("test") for name in vincent_core.__all__)
    code = (
        "import sys, vincent_core; assert 'vincent_core.testing' not in sys.modules;"
        "import vincent_core.testing; assert 'pytest' not in sys.modules;"
        "assert 'pytest_asyncio' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
