"""What a replayed message looks like on the wire (pure parts of sending)."""

from __future__ import annotations

from tests.console.helpers import call, cast
from vincent_cli.console.sending import Sender, fresh_copy, with_trace
from vincent_core.wire.deadlines import DEADLINE_HEADER


def test_a_cast_is_sent_again_with_the_same_body_and_headers_and_a_new_id() -> None:
    original = cast("a.b", {"n": 1}, **{"x-custom": "v"})
    copy = fresh_copy(original, exchange="other", now=2_000_000_000_000)
    assert copy.body == original.body and copy.headers == original.headers
    assert copy.message_id != original.message_id
    assert copy.timestamp == 2_000_000_000
    assert copy.exchange == "other" and copy.routing_key == "a.b"
    assert copy.reply_to is None and copy.correlation_id is None


def test_a_deadline_moves_to_now_plus_the_original_time_to_live() -> None:
    original = call("a.b")
    assert original.expiration == "5000"
    copy = fresh_copy(original, exchange="x", reply_to="mine", now=10_000)
    assert copy.headers[DEADLINE_HEADER] == 15_000
    assert copy.reply_to == "mine"
    assert copy.correlation_id not in (None, original.correlation_id)
    longer = fresh_copy(original, exchange="x", reply_to="mine", ttl=30, now=10_000)
    assert (longer.expiration, longer.headers[DEADLINE_HEADER]) == ("30000", 40_000)
    assert Sender.reply_wait(longer, 10) == 30
    assert Sender.reply_wait(cast("a"), 10) == 10


def test_changes_win() -> None:
    copy = fresh_copy(cast("a.b"), exchange="x", routing_key="c.d", body=b"{}")
    assert (copy.routing_key, copy.body) == ("c.d", b"{}")


def test_a_root_message_from_the_console_carries_no_trace_header() -> None:
    headers = with_trace({"a": "b"})
    assert headers == {"a": "b"}
