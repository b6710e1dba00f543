"""The pure parts of ``services`` (joining bindings with listeners) and ``trace``'s views."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from rich.console import Console

from vincent_cli.catalog import catalog, is_tap_queue, select
from vincent_cli.output.conversations import conversation_document, conversation_line, safe_text
from vincent_core.wire.conversation import Conversation
from vincent_core.wire.envelope import build_call, build_cast
from vincent_core.wire.firehose import Published
from vincent_core.wire.replies import build_error_reply


def listener(key: str, name: str, **extra: Any) -> SimpleNamespace:
    def handler() -> None:
        """Does the work."""

    values = {"queue": None, "route_to": "one", "retries": 3, **extra}
    return SimpleNamespace(key=key, name=name, handler=handler, **values)


def test_catalog_joins_by_key_and_queue_and_leaves_taps_out() -> None:
    listeners = [
        listener("ev", "audit", queue="ev.audit"),
        listener("ev", "mail", queue="ev.mail", body_schema={"type": "object"}),
        listener("idle", "nobody"),
        listener("wide", "each", route_to="all"),
    ]
    bindings = [
        ("ev", "ev.mail"),
        ("ev", "ev.audit"),
        ("wide", "wide.all.host.1.ab"),
        ("#", "vincent.tap.host.1.ab"),
        ("x", "foreign"),
    ]
    rows = catalog(
        bindings,
        queues={"ev.mail": (2, 1), "ev.audit": (0, 0)},
        hosts={"ev.mail": ["10.0.0.2"]},
        listeners=listeners,
    )
    by_queue = {row.queue: row for row in rows}
    assert by_queue["ev.mail"].handler == "mail" and by_queue["ev.mail"].messages == 2
    assert by_queue["ev.mail"].body_schema == {"type": "object"}
    assert by_queue["ev.mail"].hosts == ["10.0.0.2"] and by_queue["ev.mail"].doc == "Does the work."
    assert by_queue["ev.audit"].handler == "audit"
    assert by_queue["wide.all.host.1.ab"].handler == "each"
    assert by_queue["foreign"].handler is None and by_queue["foreign"].messages is None
    assert by_queue[None].key == "idle"  # declared, not served
    assert "vincent.tap.host.1.ab" not in by_queue and is_tap_queue("vincent.trace.abc")
    assert [row.key for row in select(rows, "e*")] == ["ev", "ev"]
    document = by_queue["ev.mail"].document()
    assert document["reply_schema"] is None and document["retries"] == 3


def test_a_conversation_as_json_and_as_a_line() -> None:
    request = build_call("vincent", "file.get", {"n": 1}, timeout=5, reply_to="amq.gen-1")
    request.headers["x-vincent-trace"] = {"id": "a" * 32, "chain": ["web\x1b[31m"]}
    reply = build_error_reply(request, ValueError("bad\x1b[2J"))
    reply.exchange, reply.routing_key = "", "amq.gen-1"
    done = Conversation(
        "call",
        "error",
        Published(request, ("file.get",), at=1.0, wall=1_800_000_000.0),
        Published(reply, (), at=1.0125, wall=1_800_000_000.0125),
    )
    document = conversation_document(done)
    assert document["latency_ms"] == 12.5 and document["status"] == "error"
    assert document["trace_id"] == "a" * 32 and document["chain"] == ["web\x1b[31m"]
    assert document["request"]["body"] == {"n": 1} and document["reply"]["key"] == "amq.gen-1"
    assert document["ts"].startswith("2027-01-15T08:00:00")
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(conversation_line(done))
    text = out.getvalue()
    assert "file.get  ← error  12.5 ms  ValueError: bad\\x1b[2J" in text
    assert "via web\\x1b[31m [aaaaaaaa]" in text and "\x1b" not in text
    cast = Conversation("cast", "cast", Published(build_cast("vincent", "ev", {}), ("q1", "q2")))
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(conversation_line(cast))
    assert "ev  → cast  to q1, q2" in out.getvalue()
    assert conversation_document(cast)["reply"] is None
    assert safe_text("a\x07b\x9bc") == "a\\x07b\\x9bc"
