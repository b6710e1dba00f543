from __future__ import annotations

import logging

from vincent_core.wire.trace import TRACE_HEADER, Trace, TraceLogFilter, current_trace, read_trace


def test_child_keeps_the_id_and_extends_the_chain() -> None:
    root = Trace.new()
    child = root.child("file.encrypt").child("file.get")
    assert child.id == root.id
    assert child.chain == ("file.encrypt", "file.get")
    assert read_trace({TRACE_HEADER: child.header()}) == child
    assert "file.encrypt > file.get" in str(child)


def test_chain_is_bounded() -> None:
    trace = Trace.new()
    for n in range(100):
        trace = trace.child(f"k{n}")
    assert len(trace.chain) == 32
    assert trace.chain[-1] == "k99"


def test_malformed_or_foreign_traces_are_ignored() -> None:
    assert read_trace(None) is None
    assert read_trace({TRACE_HEADER: "text"}) is None
    assert read_trace({TRACE_HEADER: {"chain": []}}) is None
    assert read_trace({TRACE_HEADER: {"id": b"ab", "chain": "x"}}) == Trace("ab")


def test_log_filter_adds_the_current_trace() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    token = current_trace.set(Trace("abc", ("a",)))
    try:
        assert TraceLogFilter().filter(record)
    finally:
        current_trace.reset(token)
    assert getattr(record, "trace_id") == "abc"  # noqa: B009 (set by the filter)
    assert getattr(record, "trace_chain") == "a"  # noqa: B009
