"""The console's memory: numbering, counters, echoes, known keys and fields."""

from __future__ import annotations

from tests.console.helpers import call, cast, session_with
from vincent_cli.console.session import Session


def test_entries_are_numbered_from_one_and_counted() -> None:
    session = Session(exchange="x")
    sent = session.record(cast("a.b", {"n": 1}), "sent")
    seen = session.record(cast("a.c"), "seen")
    loaded = session.record(cast("a.d"), "loaded")
    assert [sent.number, seen.number, loaded.number] == [1, 2, 3]
    assert (session.sent, session.seen) == (1, 1)
    assert session.history.get(2) is seen
    assert session.history.get(0) is None and session.history.get(4) is None
    assert len(session.history) == 3


def test_a_tapped_copy_of_a_sent_message_points_back_at_it() -> None:
    session = Session(exchange="x")
    envelope = cast("a.b")
    sent = session.record(envelope, "sent")
    copy = session.record(envelope.with_changes(), "seen")
    other = session.record(cast("a.b"), "seen")
    assert copy.echo_of == sent.number
    assert other.echo_of is None


def test_last_and_select() -> None:
    session, _ = session_with(cast("a.b"), cast("c.d"), cast("a.e"), cast("a.b"))
    assert [e.number for e in session.history.last(2)] == [3, 4]
    assert [e.number for e in session.history.last(10)] == [1, 2, 3, 4]
    assert [e.number for e in session.history.last(None, "a.*")] == [1, 3, 4]
    assert [e.number for e in session.history.last(1, "c.#")] == [2]
    assert session.history.last(0) == []
    assert [e.number for e in session.history.select([4, 1, 1, 99])] == [1, 4]


def test_keys_and_fields_are_learnt_most_recent_first() -> None:
    session, _ = session_with(cast("a.b", {"x": 1}), cast("c.d", [1]), cast("a.b", {"y": 2}))
    session.app_keys = ["files.*", "c.d", "z"]
    assert session.known_keys() == ["a.b", "c.d", "files.*", "z"]
    assert session.fields_of("a.b") == ["x", "y"]
    assert session.fields_of("c.d") == []
    assert session.fields_of("unknown") == []


def test_entry_knows_calls_and_decodes_bodies() -> None:
    _, (request, binary) = session_with(
        call("a.b", {"q": 1}), cast("a.b").with_changes(body=b"\xff", content_type="x/bin")
    )
    assert request.is_call and request.body() == {"q": 1}
    assert not binary.is_call and binary.body() == b"\xff"
