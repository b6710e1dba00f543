"""Tests of examples/files.py, written with vincent_core.testing: no RabbitMQ needed.

``files`` (conftest.py) is the app running on a memory:// broker of its own; the unit
tests at the end run one handler alone with ``call_handler`` and ``call_service``.
"""

from __future__ import annotations

import hashlib
import socket

import pytest

from examples.files import ROOT, Audit, encrypt, get
from vincent_core import FieldError, InvalidMessage, RemoteError
from vincent_core.testing import TestApp, call_handler, call_service, fake_message

HELLO = (ROOT / "hello.txt").read_bytes()


def xor(data: bytes, key_id: int) -> bytes:
    """The example's keyed XOR, written out again so the test checks it independently."""
    stream = hashlib.sha256(str(key_id).encode()).digest()
    return bytes(byte ^ stream[i % len(stream)] for i, byte in enumerate(data))


async def test_the_app_announces_itself_and_hears_it(files: TestApp) -> None:
    [announcement] = files.casts("server.up")
    assert announcement["host"] == socket.gethostname()
    assert files.stats("server.up")["handled"] == 1  # the broadcast listener got it


async def test_file_get_returns_the_bytes(files: TestApp) -> None:
    assert await files.call("file.get", {"file": "hello.txt"}) == HELLO


async def test_file_get_refuses_paths_outside_the_root(files: TestApp) -> None:
    with pytest.raises(RemoteError) as error:
        await files.call("file.get", {"file": "../files.py"})
    assert error.value.type == "PermissionError"
    assert "outside the served directory" in error.value.message


async def test_encrypt_calls_get_then_announces_the_result(files: TestApp) -> None:
    reply = await files.call("file.encrypt", {"file": "hello.txt", "key_id": 1234})
    secret = xor(HELLO, 1234)
    assert reply == {
        "file": "hello.txt",
        "key_id": 1234,
        "size": len(HELLO),
        "sha256": hashlib.sha256(secret).hexdigest(),
    }
    [nested] = files.calls("file.get")
    assert nested.body == {"file": "hello.txt"}
    [event] = await files.wait_for_casts("file.encrypted")
    assert event.body == reply
    await files.idle()
    assert files.stats("file.encrypted")["handled"] == 1  # the Audit service saw it


async def test_encrypt_lists_the_fields_of_an_invalid_request(files: TestApp) -> None:
    with pytest.raises(InvalidMessage) as error:
        await files.call("file.encrypt", {"file": "hello.txt", "key_id": "one"})
    assert error.value.errors == (
        FieldError(
            "key_id", "Input should be a valid integer, unable to parse string as an integer"
        ),
    )
    assert files.calls("file.get") == []  # the handler never ran


async def test_an_invalid_encrypt_event_is_dead_lettered_at_once(files: TestApp) -> None:
    await files.cast("file.encrypt", {"file": "hello.txt"})
    await files.idle()
    [dead] = files.dead_letters("file.encrypt")
    assert dead.reason == "invalid"
    assert dead.attempts == 0
    assert "key_id: Field required" in dead.error_message


async def test_a_failing_cast_is_retried_then_dead_lettered(files: TestApp) -> None:
    await files.cast("file.encrypt", {"file": "missing.txt", "key_id": 1})
    await files.idle()
    assert files.stats("file.encrypt")["retried"] == 1
    assert files.dead_letters() == []
    await files.advance(1 + 2 + 4)  # the default retry delays pass, without sleeping
    [dead] = files.dead_letters("file.encrypt")
    assert dead.reason == "error"
    assert dead.attempts == 4
    assert dead.error_type == "vincent_core.errors.RemoteError"
    assert "FileNotFoundError" in dead.error_message
    assert dead.body == {"file": "missing.txt", "key_id": 1}
    assert files.casts("file.encrypted") == []


async def test_encrypt_alone_with_a_canned_file_server() -> None:
    run = await call_handler(
        encrypt,
        {"file": "a.txt", "key_id": 7},
        key="file.encrypt",
        replies={"file.get": b"attack at dawn"},
    )
    assert run.result["size"] == 14
    assert run.result["sha256"] == hashlib.sha256(xor(b"attack at dawn", 7)).hexdigest()
    assert [call.body for call in run.calls("file.get")] == [{"file": "a.txt"}]
    assert [cast.body for cast in run.casts("file.encrypted")] == [run.result]


async def test_get_alone_is_a_plain_function() -> None:
    assert get(fake_message({"file": "hello.txt"}, key="file.get")) == HELLO
    run = await call_handler(get, {"file": "hello.txt"}, key="file.get")
    assert run.result == HELLO


async def test_the_audit_service_alone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="examples.files"):
        event = {"file": "a.txt", "key_id": 1, "size": 3, "sha256": "00"}
        run = await call_service(Audit, event, call=False)
    assert run.result is None and run.sent == []
    assert "audit: a.txt encrypted (3 bytes)" in caplog.text


async def test_encrypt_alone_refuses_a_bad_request() -> None:
    with pytest.raises(InvalidMessage) as error:
        await call_handler(encrypt, {"file": "a.txt"}, key="file.encrypt")
    assert [str(e) for e in error.value.errors] == ["key_id: Field required"]
