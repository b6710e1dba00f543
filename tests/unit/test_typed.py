"""Typed handlers without a broker: reading annotations, the adapter, the wire form of
field errors, schemas, and the YAML writer of ``vincent asyncapi``."""

from __future__ import annotations

import dataclasses
import sys
import typing
from typing import TYPE_CHECKING, Any

import orjson
import pydantic
import pytest
import yaml
from typing_extensions import TypedDict

from vincent_cli.output.yaml import dump_yaml
from vincent_core import ConfigurationError, FieldError, InvalidMessage, Message, Service
from vincent_core.app.listener import Listener
from vincent_core.app.service import listener_for_service
from vincent_core.app.typed import Refused, adapt, invalid_headers, read_types
from vincent_core.validation import FIELDS_HEADER_LIMIT, fields_header, path_of
from vincent_core.wire.codec import dumps
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.replies import build_error_reply, read_reply

if TYPE_CHECKING:
    import vincent_core as vc  # only imported for the type checker


class Request(pydantic.BaseModel):
    """Ask for something.

    With a longer story below."""

    name: str
    count: int = 1


class Answer(pydantic.BaseModel):
    text: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Row(TypedDict):
    id: int


def test_untyped_handlers_stay_untyped() -> None:
    def bare(msg):
        return msg

    def annotated(msg: Message) -> dict[str, Any]:
        return {}

    def hidden(msg: vc.Message) -> bytes:  # the name cannot be resolved at run time
        return b""

    def anything(msg: Any) -> Any:
        return None

    def closure(msg: Message, name: str = "w1", *, flag: bool = False) -> str:
        return name  # the `name=name` idiom: a default is never a body

    def loose(msg: object) -> object:
        return msg

    for handler in (bare, annotated, hidden, anything, closure, loose):
        assert not read_types(handler, where="h").typed, handler
    listener = Listener("k", annotated)
    assert listener.plan(True)[1] is annotated  # called exactly as before


def test_what_a_typed_handler_declares() -> None:
    async def both(req: Request, msg: Message) -> Answer:
        raise NotImplementedError

    def message_first(msg: Message, point: Point) -> None:
        pass

    def reply_only(msg: Message) -> Answer:
        raise NotImplementedError

    def nothing() -> Row:
        raise NotImplementedError

    types = read_types(both, where="h")
    assert (types.body, types.reply, types.arguments) == (Request, Answer, ("body", "message"))
    types = read_types(message_first, where="h")
    assert (types.body, types.reply, types.replies) == (Point, None, False)
    assert types.arguments == ("message", "body")
    assert read_types(reply_only, where="h").reply is Answer
    assert read_types(nothing, where="h").arguments == ()


def test_bad_declarations_fail_when_declared() -> None:
    def two_bodies(a: Request, b: Point) -> None: ...
    def keyword(req: Request, *, extra: int) -> None: ...
    def unknown(req: NoSuchType) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    class Plain(typing.TypedDict):  # pydantic refuses typing.TypedDict before 3.12
        a: int

    def refused(row: Plain) -> None: ...

    for handler, text in (
        (two_bodies, "two body parameters"),
        (keyword, "required keyword-only parameter 'extra'"),
        (unknown, "cannot resolve the annotation 'NoSuchType'"),
    ):
        with pytest.raises(ConfigurationError, match=text):
            Listener("k", handler)
    if sys.version_info < (3, 12):
        with pytest.raises(ConfigurationError, match="cannot use Plain as a message type"):
            Listener("k", refused)


def test_annotations_may_name_classes_local_to_a_function() -> None:
    class Local(pydantic.BaseModel):
        a: int

    async def handler(body: Local) -> Local:
        return body

    assert read_types(handler, where="h").body is Local


async def test_the_adapter_validates_calls_and_checks_replies() -> None:
    from vincent_core.testing import fake_message

    async def handler(req: Request, msg: Message) -> Answer:
        return Answer(text=req.name * req.count) if req.name != "liar" else "nope"  # type: ignore[return-value]

    run = adapt(read_types(handler, where="h"), lambda m, a: handler(*a), is_async=True)
    call = fake_message({"name": "ab", "count": "2"}, key="k", call=True)
    assert await run(call) == {"text": "abab"}
    # A cast's return value is not checked nor serialised: nobody gets it.
    assert await run(fake_message({"name": "ab"}, key="k")) == Answer(text="ab")
    with pytest.raises(Refused) as refused:
        await run(fake_message({"count": []}, key="k", call=True))
    assert refused.value.error.type == "vincent.invalid"
    assert refused.value.error.errors == (
        FieldError("name", "Field required"),
        FieldError("count", "Input should be a valid integer"),
    )
    with pytest.raises(Refused) as liar:
        await run(fake_message({"name": "liar"}, key="k", call=True))
    assert liar.value.error.type == "vincent.invalid-reply"
    assert "the handler for 'k' returned str" in liar.value.error.message


def test_a_typed_service_and_its_schema() -> None:
    class Mixed(Service):
        """Two methods, two body types."""

        bind_to = "mixed"

        def handle_call(self, req: Request) -> Answer:
            return Answer(text=self.message.key)

        def handle_cast(self, point: Point) -> None: ...

    listener = listener_for_service(Mixed)
    schema = listener.schema
    assert schema.summary == "Two methods, two body types."
    assert schema.request_type == Request | Point
    assert schema.reply is not None and schema.reply["title"] == "Answer"
    assert listener_for_service(Mixed).plan(False)[0] is False


def test_listener_schema_for_tools() -> None:
    async def handler(req: Request) -> Answer:
        raise NotImplementedError

    schema = Listener("k", handler).schema
    assert (schema.summary, schema.description) == ("", "")  # no docstring
    assert schema.fields() == ["name", "count"]
    assert schema.request is not None and schema.request["required"] == ["name"]

    async def untyped(msg: Message) -> None:
        """Just listens.

        And says so."""

    plain = Listener("k", untyped).schema
    assert (plain.request, plain.reply, plain.replies) == (None, None, False)
    assert (plain.summary, plain.description) == ("Just listens.", "And says so.")
    assert plain.fields() == []


def test_paths_and_the_fields_header() -> None:
    assert path_of(("items", 0, "name")) == "items[0].name"
    assert path_of((2,)) == "[2]"
    assert path_of(()) == ""
    few = [FieldError("a", "bad")]
    assert orjson.loads(fields_header(few)) == [{"path": "a", "message": "bad"}]
    many = [FieldError(f"items[{n}].name", "Input should be a valid string") for n in range(500)]
    header = fields_header(many)
    assert len(header.encode()) <= FIELDS_HEADER_LIMIT
    parsed = orjson.loads(header)
    assert parsed[-1]["message"].endswith("more error(s) left out")
    assert len(parsed) > 10
    huge = [FieldError("x" * 20_000, "\x1b" * 20_000)]
    assert len(fields_header(huge).encode()) <= FIELDS_HEADER_LIMIT
    headers = invalid_headers(InvalidMessage("vincent.invalid", "summary", tuple(many)))
    assert len(headers["x-vincent-error-message"].encode()) <= FIELDS_HEADER_LIMIT
    assert headers["x-vincent-error-message"].startswith("summary\n  items[0].name: ")


def test_field_errors_travel_in_the_error_reply() -> None:
    request = Envelope(exchange="x", routing_key="k", body=b"{}", reply_to="r", correlation_id="c")
    errors = (FieldError("a", "Field required"), FieldError("", "Input should be an object"))
    reply = build_error_reply(
        request, type="vincent.invalid", message="bad", traceback="", errors=errors
    )
    assert orjson.loads(reply.body)["errors"][0] == {"path": "a", "message": "Field required"}
    with pytest.raises(InvalidMessage) as caught:
        read_reply(reply, "k")
    assert caught.value.errors == errors
    assert str(caught.value) == (
        "vincent.invalid: bad\n  a: Field required\n  (body): Input should be an object"
    )
    # An older worker's error reply without "errors" still maps, with no fields.
    plain = build_error_reply(request, type="vincent.invalid", message="bad", traceback="")
    with pytest.raises(InvalidMessage) as older:
        read_reply(plain, "k")
    assert older.value.errors == ()


def test_models_are_sent_as_json() -> None:
    assert orjson.loads(dumps({"r": Request(name="a")})) == {"r": {"name": "a", "count": 1}}
    assert orjson.loads(dumps(Point(1, 2))) == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    "value",
    [
        {"plain": "text", "yes": "yes", "no": "No", "null": "null", "num": "1.5", "oct": "0o7"},
        {"colon": "a: b", "hash": "a #b", "lead": " x", "trail": "x ", "dash": "-x", "q": "'"},
        {"ctl": "a\x1bb", "uni": "héllo", "tab": "a\tb", "empty": "", "star": "*", "amp": "&a"},
        {"multi": "line one\n\n  indented\nlast", "trailing": "a\n", "spaces": "a \nb"},
        {"list": [1, 2.5, True, None, [], {}, [1, [2]], {"a": {"b": [{"c": 1}, "d"]}}]},
        {"$ref": "#/x", "x-y": "z", "1": "one", "true": False, "": "empty key"},
    ],
)
def test_the_yaml_writer_reads_back_as_the_same_data(value: dict[str, Any]) -> None:
    assert yaml.safe_load(dump_yaml(value)) == value


def test_refusing_a_body_takes_well_under_a_millisecond() -> None:
    """The issue's bound: a typed call with a wrong field is answered after < 1 ms of
    handler time. The fastest of 20 tries, so a busy machine does not make it flaky."""
    import time

    from vincent_core.testing import fake_message

    async def handler(req: Request) -> Answer:
        raise NotImplementedError

    run = adapt(read_types(handler, where="h"), lambda m, a: handler(*a), is_async=False)
    message = fake_message({"name": 3, "count": "x"}, key="k", call=True)
    fastest = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        with pytest.raises(Refused):
            run(message)
        fastest = min(fastest, time.perf_counter() - started)
    assert fastest < 0.001


def test_vincent_services_shows_the_schemas() -> None:
    from vincent_cli.catalog import catalog

    async def handler(req: Request) -> Answer:
        """Answers."""
        raise NotImplementedError

    [row] = catalog([("k", "k")], listeners=[Listener("k", handler)])
    assert row.body_schema is not None and row.body_schema["title"] == "Request"
    assert row.reply_schema is not None and row.reply_schema["title"] == "Answer"
    assert row.doc == "Answers."
