"""A pytest fixture for a ``TestApp``, made on demand so that importing the kit never
imports pytest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from vincent_core.app.vincent import Vincent
from vincent_core.testing.app import TestApp

__all__ = ["app_fixture"]


def app_fixture(app: Vincent, **options: Any) -> Any:
    """A pytest fixture that runs ``app`` in a :class:`TestApp` for each test.

    ::

        # conftest.py
        from myapp import app
        from vincent_core.testing import app_fixture

        t = app_fixture(app)            # the fixture is called "t"

        # test_myapp.py
        async def test_get(t):
            assert await t.call("file.get", {"file": "hello.txt"}) == b"hello"

    ``options`` go to ``TestApp`` (``url=``, ``concurrency=``, ``grace=``). Needs
    pytest-asyncio (its fixture decorator works in strict and auto mode alike).
    """
    import pytest_asyncio

    async def fixture() -> AsyncIterator[TestApp]:
        async with TestApp(app, **options) as test_app:
            yield test_app

    return pytest_asyncio.fixture(fixture)
