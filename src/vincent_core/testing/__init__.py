"""Test a vincent app without RabbitMQ: the kit runs it on ``memory://``.

::

    from vincent_core.testing import TestApp, call_handler

    async def test_encrypt():
        async with TestApp(app) as t:                       # the app, on memory://
            reply = await t.call("file.encrypt", {"file": "hello.txt", "key_id": 1})
            [event] = await t.wait_for_casts("file.encrypted")
            assert event.body == reply

    async def test_encrypt_alone():                         # one handler, no broker
        run = await call_handler(encrypt, {"file": "a", "key_id": 1},
                                 replies={"file.get": b"abc"})
        assert run.casts("file.encrypted")

Import it from tests only: it is not part of ``vincent_core``'s façade, and it never
imports pytest itself (``app_fixture`` does, when called). See docs/testing.md.
"""

from vincent_core.testing.app import TestApp
from vincent_core.testing.fixtures import app_fixture
from vincent_core.testing.handlers import (
    FakeClient,
    HandlerRun,
    call_handler,
    call_service,
    fake_message,
)
from vincent_core.testing.records import DeadLetter, SentMessage

__all__ = [
    "DeadLetter",
    "FakeClient",
    "HandlerRun",
    "SentMessage",
    "TestApp",
    "app_fixture",
    "call_handler",
    "call_service",
    "fake_message",
]
