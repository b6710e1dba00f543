"""One table maps every failure to an exit code."""

from __future__ import annotations

import pytest

from vincent_cli.exit_codes import CommandError, describe, exit_code_for
from vincent_core import errors


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.RemoteError("ValueError", "bad", "Traceback..."), 1),
        (errors.Rejected("k"), 1),
        (errors.PublishFailed("nack"), 1),
        (errors.ConfigurationError("bad url"), 2),
        (errors.EncodeError("not JSON"), 2),
        (CommandError("bad JSON"), 2),
        (errors.CallTimeout("k", 1.0), 3),
        (TimeoutError(), 3),
        (errors.NoRoute("k"), 4),
        (errors.ConnectionFailed("refused", url="amqp://u:***@h/"), 5),
        (errors.AuthenticationFailed("denied", url="amqp://u:***@h/"), 5),
        (errors.ConnectionLost("dropped"), 5),
        (KeyboardInterrupt(), 130),
        (CommandError("nothing", code=3), 3),
    ],
)
def test_table(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code


def test_bugs_have_no_code() -> None:
    assert exit_code_for(ZeroDivisionError()) is None


def test_remote_error_shows_type_message_and_traceback() -> None:
    text = describe(errors.RemoteError("myapp.DiskFull", "no space", "Traceback (most...)\n"))
    assert text.startswith("the remote handler raised myapp.DiskFull: no space")
    assert "Remote traceback:\nTraceback (most...)" in text


def test_connection_errors_hint_at_the_broker_url() -> None:
    text = describe(errors.ConnectionFailed("cannot connect to amqp://u:***@h/: refused"))
    first, hint = text.split("\n")
    assert first == "cannot connect to amqp://u:***@h/: refused"
    assert "VINCENT_BROKER_URL" in hint
    assert "make demo" in hint


def test_wrong_password_says_so() -> None:
    text = describe(errors.AuthenticationFailed("authentication failed for amqp://u:***@h/"))
    assert "password" in text


def test_command_error_with_hint() -> None:
    assert describe(CommandError("bad", hint="try this")) == "bad\ntry this"
