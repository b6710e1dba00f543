"""Typed handlers: the body is validated before the handler runs, the reply is serialised
from its declared type, and a typed caller gets the reply back as that type."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
import pydantic
import pytest
from typing_extensions import TypedDict  # pydantic's choice before Python 3.12

from tests.behaviour.support import Broker, take_all
from vincent_core import (
    Client,
    FieldError,
    InvalidMessage,
    Message,
    RemoteError,
    Service,
    SyncClient,
    Vincent,
)


class EncryptRequest(pydantic.BaseModel):
    file: str
    key_id: int


class Encrypted(pydantic.BaseModel):
    file: str
    size: int


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Tags(TypedDict):
    name: str
    tags: list[str]


class Doubler(Service):
    """Doubles a number: typed Service methods."""

    bind_to = ""

    async def handle_call(self, point: Point) -> Point:
        assert self.message.body == {"x": point.x, "y": point.y}
        return Point(point.x * 2, point.y * 2)


def typed_app(broker_url: str, exchange: str, ns: Any, ran: list[str]) -> Vincent:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("encrypt"))
    async def encrypt(req: EncryptRequest, msg: Message) -> Encrypted:
        ran.append(msg.key)
        return Encrypted(file=req.file, size=req.key_id * 2)

    @app.listen(ns("liar"))
    async def liar(req: EncryptRequest) -> Encrypted:
        ran.append("liar")
        return {"file": req.file}  # type: ignore[return-value]  # no size: a wrong reply

    @app.listen(ns("tags"))
    def tags(body: Tags) -> list[str]:  # a plain def: validated in the worker thread
        ran.append("tags")
        return sorted(body["tags"])

    @app.listen(ns("untyped"))
    async def untyped(msg: Message) -> Any:
        return msg.body

    app.include(Doubler, key=ns("double"))
    return app


async def test_a_valid_call_is_served_and_typed_at_both_ends(
    broker_url: str, exchange: str, ns: Any
) -> None:
    ran: list[str] = []
    app = typed_app(broker_url, exchange, ns, ran)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        plain = await client.call(ns("encrypt"), {"file": "a", "key_id": "21"})
        assert plain == {"file": "a", "size": 42}  # "21" coerced, the model serialised
        typed = await client.call(
            ns("encrypt"), EncryptRequest(file="b", key_id=2), reply=Encrypted
        )
        assert typed == Encrypted(file="b", size=4)
        assert await client.call(ns("tags"), {"name": "n", "tags": ["b", "a"]}) == ["a", "b"]
        assert await client.call(ns("double"), Point(1, 2.5), reply=Point) == Point(2, 5)
        assert await client.call(ns("untyped"), {"any": ["thing"]}) == {"any": ["thing"]}
    assert ran == [ns("encrypt"), ns("encrypt"), "tags"]


async def test_an_invalid_call_lists_its_fields_and_never_reaches_the_handler(
    broker_url: str, exchange: str, ns: Any
) -> None:
    ran: list[str] = []
    app = typed_app(broker_url, exchange, ns, ran)
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(InvalidMessage) as caught:
            await client.call(ns("encrypt"), {"file": 3, "key_id": "many"})
        with pytest.raises(InvalidMessage) as nested:
            await client.call(ns("tags"), {"name": "n", "tags": ["a", 2]})
        assert app.worker is not None
        stats = app.worker.stats()[ns("encrypt")]
    error = caught.value
    assert isinstance(error, RemoteError)
    assert error.type == "vincent.invalid"
    assert error.errors == (
        FieldError("file", "Input should be a valid string"),
        FieldError(
            "key_id", "Input should be a valid integer, unable to parse string as an integer"
        ),
    )
    assert "\n  file: Input should be a valid string\n" in str(error)
    assert f"the body for {ns('encrypt')!r} does not match EncryptRequest" in str(error)
    assert nested.value.errors == (FieldError("tags[1]", "Input should be a valid string"),)
    assert ran == []
    assert stats["failed"] == 1


async def test_a_wrong_return_value_is_an_error_reply(
    broker_url: str, exchange: str, ns: Any
) -> None:
    app = typed_app(broker_url, exchange, ns, [])
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(InvalidMessage) as caught:
            await client.call(ns("liar"), {"file": "a", "key_id": 1})
        # The worker is fine: the next call is served.
        assert await client.call(ns("encrypt"), {"file": "a", "key_id": 1}) == {
            "file": "a",
            "size": 2,
        }
    assert caught.value.type == "vincent.invalid-reply"
    assert caught.value.errors == (FieldError("size", "Field required"),)


async def test_the_caller_checks_the_reply_type(broker_url: str, exchange: str, ns: Any) -> None:
    app = typed_app(broker_url, exchange, ns, [])
    async with app.running(), Client(broker_url, exchange=exchange) as client:
        with pytest.raises(InvalidMessage) as caught:
            await client.call(ns("untyped"), {"file": "a"}, reply=Encrypted)
    assert caught.value.type == "vincent.invalid-reply"
    assert caught.value.errors == (FieldError("size", "Field required"),)


async def test_an_invalid_cast_is_dead_lettered_at_once(
    broker: Broker, exchange: str, ns: Any
) -> None:
    ran: list[str] = []
    app = typed_app(broker.url, exchange, ns, ran)
    async with app.running(), Client(broker.url, exchange=exchange) as client:
        await client.cast(ns("encrypt"), {"file": "a"})
        [dead] = await take_all(broker, client, ns("dead"), 1)
        assert app.worker is not None
        stats = app.worker.stats()[ns("encrypt")]
    headers = dead.headers
    assert headers["x-vincent-reason"] == "invalid"
    assert headers["x-vincent-error-type"] == "vincent.invalid"
    assert headers["x-vincent-attempts"] == 0
    assert "key_id: Field required" in headers["x-vincent-error-message"]
    fields = orjson.loads(headers["x-vincent-error-fields"])
    assert fields == [{"path": "key_id", "message": "Field required"}]
    assert dead.body == b'{"file":"a"}'
    assert ran == []
    assert stats["retried"] == 0 and stats["dead"] == 1


async def test_a_nested_invalid_call_is_an_ordinary_failure(
    broker: Broker, exchange: str, ns: Any
) -> None:
    """Only the handler's own body is "invalid": an InvalidMessage raised by a call made
    inside the handler is that handler's failure, retried like any other."""
    app = typed_app(broker.url, exchange, ns, [])

    @app.listen(ns("relay"), retries=0)
    async def relay(msg: Message) -> None:
        await msg.call(ns("encrypt"), {"file": 1})

    async with app.running(), Client(broker.url, exchange=exchange) as client:
        await client.cast(ns("relay"), {})
        [dead] = await take_all(broker, client, ns("dead"), 1)
    assert dead.headers["x-vincent-reason"] == "error"
    assert dead.headers["x-vincent-error-type"] == "vincent_core.errors.InvalidMessage"


async def test_the_sync_client_is_typed_too(broker: Broker, exchange: str, ns: Any) -> None:
    app = typed_app(broker.url, exchange, ns, [])

    def call() -> Encrypted:
        with SyncClient(broker.url, exchange=exchange) as client:
            result: Encrypted = client.call(
                ns("encrypt"), EncryptRequest(file="s", key_id=5), reply=Encrypted
            )
            return result

    async with app.running():
        assert await asyncio.to_thread(call) == Encrypted(file="s", size=10)
