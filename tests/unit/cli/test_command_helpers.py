"""The pure parts of the commands: replay preparation, key maps, dead-letter summaries,
the live traffic line, and the completion model."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console

from vincent_cli.commands.dead import dead_summary
from vincent_cli.commands.replay import parse_key_map, prepare
from vincent_cli.completions import describe_cli, render_bash
from vincent_cli.exit_codes import CommandError
from vincent_cli.output.views import live_line, short_body
from vincent_cli.records import Record
from vincent_core.wire.envelope import Envelope, build_call, build_cast
from vincent_core.wire.trace import TRACE_HEADER, Trace

RECORDED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_key_map() -> None:
    assert parse_key_map(["a.b=c.d", "x=y"]) == {"a.b": "c.d", "x": "y"}
    for bad in ("a", "=b", "a="):
        with pytest.raises(CommandError, match="OLD=NEW"):
            parse_key_map([bad])


def test_prepare_uses_the_exchange_in_effect_and_maps_keys() -> None:
    envelope = build_cast("recorded-exchange", "old.key", {"a": 1}, headers={"h": "v"})
    record = Record(RECORDED, envelope)
    sent = prepare(record, exchange="now", key_map={"old.key": "new.key"}, now=RECORDED)
    assert (sent.exchange, sent.routing_key) == ("now", "new.key")
    assert sent.body == envelope.body
    assert sent.headers == envelope.headers
    assert sent.properties() == envelope.properties()
    kept = prepare(record, exchange=None, key_map={}, now=RECORDED)
    assert (kept.exchange, kept.routing_key) == ("recorded-exchange", "old.key")


def test_prepare_drops_reply_to_and_moves_the_deadline() -> None:
    envelope = build_call("x", "k", {}, timeout=5, reply_to="amq.rabbitmq.reply-to")
    deadline = envelope.headers["x-vincent-deadline"]
    later = RECORDED + dt.timedelta(hours=1)
    sent = prepare(Record(RECORDED, envelope), exchange=None, key_map={}, now=later)
    assert sent.reply_to is None
    assert sent.correlation_id == envelope.correlation_id
    assert sent.headers["x-vincent-deadline"] == deadline + 3_600_000
    assert sent.expiration == envelope.expiration


def test_dead_summary_reads_the_dead_letter_headers() -> None:
    summary = dead_summary(
        {
            "x-vincent-original-key": b"file.encrypt",
            "x-vincent-reason": "error",
            "x-vincent-error-type": "ValueError",
            "x-vincent-error-message": "bad",
            "x-vincent-attempts": 4,
            "x-vincent-dead-at": "2026-01-01T00:00:00+00:00",
        }
    )
    assert summary["original_key"] == "file.encrypt"
    assert summary["attempts"] == 4
    assert summary["error_traceback"] == ""
    assert dead_summary({})["attempts"] is None


def render(envelope: Envelope) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(live_line(envelope, RECORDED, 100))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_live_line_for_a_cast_a_call_and_a_reply() -> None:
    cast = render(build_cast("x", "file.encrypt", {"key_id": 1234}))
    assert 'file.encrypt  {"key_id":1234}' in cast
    assert "call" not in cast
    call = build_call("x", "file.get", {}, timeout=1, reply_to="r", correlation_id="abcdef0123")
    assert "→ call #abcdef01" in render(call)
    reply = Envelope("", "r", b"null", {"x-vincent-status": "error"}, correlation_id="abcdef0123")
    assert "← reply error #abcdef01" in render(reply)


def test_short_body_cuts_long_bodies_and_describes_bytes() -> None:
    assert short_body(build_cast("x", "k", {"a": "x" * 200}), 20) == '{"a":"xxxxxxxxxxxxx…'
    assert short_body(build_cast("x", "k", b"\x00" * 2048)) == "<2.0 KiB, application/octet-stream>"


def test_completion_model_knows_every_command_and_option() -> None:
    root = describe_cli()
    names = {command.name for command in root.subcommands}
    assert {"cast", "call", "listen", "record", "replay", "serve", "dead", "queues"} <= names
    dead = next(c for c in root.subcommands if c.name == "dead")
    assert {sub.name for sub in dead.subcommands} == {"list", "replay", "purge"}
    output = next(o for o in root.options if "--output" in o.names)
    assert output.choices == ("json", "pretty", "raw")
    assert "compgen" in render_bash(root)


def test_live_line_shows_the_trace_chain_and_id() -> None:
    root = render(
        build_cast("x", "file.encrypt", {}, headers={TRACE_HEADER: Trace("ab" * 16).header()})
    )
    assert root.rstrip().endswith("[abababab]")
    assert "via" not in root
    nested = Trace("cd" * 16).child("web.upload").child("file.encrypt")
    line = render(
        build_call(
            "x",
            "file.get",
            {},
            timeout=1,
            reply_to="r",
            correlation_id="c1",
            headers={TRACE_HEADER: nested.header()},
        )
    )
    assert "→ call #c1  via web.upload > file.encrypt [cdcdcdcd]" in line
    assert "[" not in render(build_cast("x", "k", {}))
