"""OpenTelemetry: spans for cast, call and handling, linked through the AMQP headers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from tests.integration.support import eventually
from vincent_core import Client, Message, Vincent, observe, otel
from vincent_core.app.dispatch import Dispatcher

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    otel.instrument(tracer_provider=provider)
    try:
        yield memory
    finally:
        otel.uninstrument()
        provider.shutdown()


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def attributes_of(span: ReadableSpan) -> Mapping[str, Any]:
    assert span.attributes is not None
    return span.attributes


async def test_a_nested_call_chain_is_one_trace(
    broker_url: str, exchange: str, ns, exporter: InMemorySpanExporter
) -> None:
    app = Vincent(broker_url, exchange=exchange, dead_letter_queue=ns("dead"))

    @app.listen(ns("outer"))
    async def outer(msg: Message) -> str:
        return "outer+" + str(await msg.call(ns("inner"), {}))

    @app.listen(ns("inner"))
    def inner(msg: Message) -> str:  # a thread handler: the context follows it
        msg.cast(ns("event"), {})
        return "inner"

    @app.listen(ns("event"), retries=0, retry_delays=())
    async def event(msg: Message) -> None:
        raise RuntimeError("nobody handles events well")

    async with app.running(), Client(broker_url, exchange=exchange) as client:
        assert await client.call(ns("outer"), {}) == "outer+inner"
        await eventually(
            lambda: any(s.name == f"{ns('event')} process" for s in exporter.get_finished_spans())
        )

    spans = exporter.get_finished_spans()
    call_outer = by_name(spans, f"{ns('outer')} call")
    handle_outer = by_name(spans, f"{ns('outer')} process")
    call_inner = by_name(spans, f"{ns('inner')} call")
    handle_inner = by_name(spans, f"{ns('inner')} process")
    cast_event = by_name(spans, f"{ns('event')} publish")
    handle_event = by_name(spans, f"{ns('event')} process")
    chain = [call_outer, handle_outer, call_inner, handle_inner, cast_event, handle_event]
    assert {span.context.trace_id for span in chain} == {call_outer.context.trace_id}
    for parent, child in itertools.pairwise(chain):
        assert parent_of(child) == parent.context.span_id, (parent.name, child.name)
    assert parent_of(call_outer) is None
    assert [s.kind for s in chain] == [
        SpanKind.CLIENT,
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.SERVER,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
    ]
    assert attributes_of(handle_outer)["vincent.outcome"] == "handled"
    assert attributes_of(handle_outer)["messaging.rabbitmq.destination.routing_key"] == ns("outer")
    assert attributes_of(call_outer)["vincent.outcome"] == "ok"
    assert handle_event.status.status_code is StatusCode.ERROR
    assert attributes_of(handle_event)["vincent.outcome"] == "dead"


async def test_uninstrument_restores_everything(exporter: InMemorySpanExporter) -> None:
    instrumented = Dispatcher.__call__
    assert observe.get_observer() is not None
    otel.uninstrument()
    assert Dispatcher.__call__ is not instrumented
    assert observe.get_observer() is None
    otel.instrument()  # the fixture uninstruments again
    assert asyncio.iscoroutinefunction(Client.cast)
