"""What the console prints, rendered without colour at a fixed width."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

from rich.console import Console, RenderableType

from tests.console.helpers import call, cast, session_with
from vincent_cli.console import render
from vincent_cli.console.grammar import COMMANDS
from vincent_cli.console.screen import Screen
from vincent_core.errors import RemoteError
from vincent_core.wire.replies import build_error_reply, build_ok_reply


def text(*renderables: RenderableType, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_a_summary_line_has_number_direction_key_body_and_outcome() -> None:
    session, (entry,) = session_with(call("file.get", {"file": "/etc/hostname"}), origin="sent")
    entry.at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    entry.outcome, entry.elapsed = "ok", 0.012
    entry.reply = build_ok_reply(entry.envelope, "myhost")
    line = text(render.summary(entry))
    assert line.startswith("   1 ")
    assert '→ call file.get {"file":"/etc/hostname"}  ok 12 ms "myhost"' in line
    echo = session.record(entry.envelope, "seen")
    assert text(render.summary(echo)).rstrip().endswith("(#1)")


def test_a_summary_fits_the_terminal_width() -> None:
    body = {"file": "hello.txt", "sha256": "ab" * 40}
    _, (entry,) = session_with(call("file.encrypted", body), origin="sent")
    entry.outcome, entry.elapsed = "ok", 0.003
    entry.reply = build_ok_reply(entry.envelope, {"size": 36})
    for width in (80, 100, 120):
        line = text(render.summary(entry, width=width), width=300).rstrip("\n")
        assert len(line) == width - 1, line
        assert line.endswith('  ok 3 ms {"size":36}') and "…" in line
    # Narrow: the reply gives way, then the time; the line still fits.
    narrow = text(render.summary(entry, width=60), width=300).rstrip("\n")
    assert len(narrow) <= 59 and ":" not in narrow[5:14], narrow
    assert (
        narrow.startswith('   1 → call file.encrypted {"file":"hello.txt"') and "ok 3 ms" in narrow
    )
    for width in range(20, 130):
        line = text(render.summary(entry, width=width), width=300).rstrip("\n")
        assert len(line) < width, (width, line)
    wide = text(render.summary(entry, width=400), width=500)
    assert "ab" * 40 in wide and "…" not in wide
    assert len(text(render.summary(entry), width=500)) > 100, "no width: 80 for the body"


def test_a_binary_body_is_never_printed_raw() -> None:
    _, (entry,) = session_with(cast("f").with_changes(body=b"\x1b[2J\x00", content_type="a/b"))
    shown = text(render.summary(entry), render.detail(entry))
    assert "<5 bytes, a/b>" in shown
    assert "\x1b" not in shown
    assert "b'\\x1b[2J\\x00'" in shown


def test_long_bodies_are_cut_on_one_line() -> None:
    _, (entry,) = session_with(cast("k", {"data": "x" * 500}))
    assert len(render.snippet(entry.envelope).plain) == render.SNIPPET
    assert render.snippet(entry.envelope).plain.endswith("…")


def test_show_has_properties_headers_body_and_the_reply() -> None:
    _, (entry,) = session_with(call("file.get", {"file": "/x"}), origin="sent")
    entry.reply = build_error_reply(entry.envelope, ValueError("nope"))
    entry.outcome, entry.elapsed = "error", 0.5
    shown = text(render.detail(entry))
    for expected in ("properties", "reply_to", "amq.reply", "x-vincent-deadline", '"file": "/x"'):
        assert expected in shown
    assert "reply 500 ms" in shown and "x-vincent-status  error" in shown


def test_a_remote_error_shows_type_message_and_traceback() -> None:
    error = RemoteError("myapp.DiskFull", "disk full", "Traceback (most recent call last):\n  X\n")
    shown = text(render.remote_error(error))
    assert "remote error myapp.DiskFull: disk full" in shown
    assert "  Traceback (most recent call last):" in shown
    assert text(render.remote_error(RemoteError("E", "m"))).strip() == "remote error E: m"


def test_outcome_lines() -> None:
    _, (entry,) = session_with(cast("k"), origin="sent")
    entry.outcome, entry.detail = "no route", "nothing is bound to 'k'"
    assert text(render.outcome(entry)).strip() == "#1 no route: nothing is bound to 'k'"


def test_help_lists_every_command_and_explains_one() -> None:
    overview = text(render.help_overview())
    assert all(spec.usage in overview for spec in COMMANDS.values())
    shown = text(render.help_command(COMMANDS["call"]))
    assert "--timeout S" in shown and "--header, -H K:V" in shown
    assert "also: quit" in text(render.help_command(COMMANDS["exit"]))


def test_the_screen_holds_output_while_an_editor_runs() -> None:
    out = io.StringIO()
    screen = Screen(Console(file=out, width=80, color_system=None))
    with screen.hold():
        screen.print(render.note("later"))
        assert out.getvalue() == ""
    assert out.getvalue() == "later\n"


def test_vincent_logs_print_on_the_screen_only_meanwhile() -> None:
    out = io.StringIO()
    screen = Screen(Console(file=out, width=80, color_system=None))
    logger = logging.getLogger("vincent.transport")
    with screen.capture_logs():
        logger.warning("connection to %s lost; reconnecting", "amqp://x")
        logger.info("not shown")
        try:
            raise KeyError("k")
        except KeyError:
            logging.getLogger("vincent.worker").exception("handler failed")
    logger.warning("after")
    shown = out.getvalue()
    assert "[vincent.transport] connection to amqp://x lost; reconnecting" in shown
    assert "not shown" not in shown and "after" not in shown
    assert "handler failed" in shown and "KeyError: 'k'" in shown
    assert logging.getLogger("vincent").propagate


def test_an_invalid_message_lists_its_fields_inline() -> None:
    from vincent_core import FieldError, InvalidMessage

    error = InvalidMessage(
        "vincent.invalid",
        "the body for 'k' does not match Job (2 errors)",
        (
            FieldError("id", "Field required"),
            FieldError("owner.name", "Input should be a valid string"),
        ),
    )
    assert text(render.remote_error(error)).splitlines() == [
        "remote error vincent.invalid: the body for 'k' does not match Job (2 errors)",
        "  id: Field required",
        "  owner.name: Input should be a valid string",
    ]


def test_after_the_outcome_line_the_fields_and_the_traceback_follow_once() -> None:
    from vincent_core import FieldError, InvalidMessage

    invalid = InvalidMessage(
        "vincent.invalid", "does not match Job", (FieldError("id", "missing"),)
    )
    fields = render.remote_details(invalid)
    assert fields is not None and text(fields).splitlines() == ["  id: missing"]
    raised = RemoteError(
        "ValueError",
        "no such file: /nope",
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
        "ValueError: no such file: /nope\n",
    )
    details = render.remote_details(raised)
    assert details is not None
    shown = text(details)
    assert 'File "x.py"' in shown and "no such file" not in shown
    assert "no such file: /nope" in text(render.remote_error(raised)).splitlines()[-1]
    assert render.remote_details(RemoteError("E", "m", "")) is None
