"""`Vincent.run()` picks uvloop when it is installed, unless told not to."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from vincent_core.app.loop import loop_factory, run


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VINCENT_LOOP", "asyncio")
    assert loop_factory() is None
    assert run(asyncio.sleep(0, "done")) == "done"


def test_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VINCENT_LOOP", raising=False)
    factory = loop_factory()
    if importlib.util.find_spec("uvloop") is None:
        assert factory is None
    else:
        assert factory is not None

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(which()).startswith("uvloop" if factory else "asyncio")
