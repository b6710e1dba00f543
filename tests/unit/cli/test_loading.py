"""MODULE:OBJ: clear errors, and the user's own traceback when their module raises."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vincent_cli.exit_codes import USAGE, CommandError
from vincent_cli.loading import UserCodeError, import_target, load_app, parse_target


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_parse_target() -> None:
    assert parse_target("examples.files:app") == ("examples.files", "app")
    assert parse_target("m:factory.app") == ("m", "factory.app")
    for bad in ("examples.files", ":app", "m:", "m:1x", "a b:app"):
        with pytest.raises(CommandError, match="is not MODULE:OBJ"):
            parse_target(bad)


def test_loads_an_app_from_the_current_directory(modules: Path) -> None:
    (modules / "cliapp_ok.py").write_text(
        "from vincent_core import Vincent\napp = Vincent()\n"
        "@app.listen('a.b')\nasync def h(msg): return 1\n"
    )
    app = load_app("cliapp_ok:app", cwd=modules)
    assert [route.key for route in app.routes()] == ["a.b"]


def test_missing_module(modules: Path) -> None:
    with pytest.raises(CommandError, match="cannot import 'nosuchmodule_x'") as caught:
        import_target("nosuchmodule_x:app", cwd=modules)
    assert not isinstance(caught.value, UserCodeError)


def test_missing_attribute(modules: Path) -> None:
    (modules / "cliapp_empty.py").write_text("x = 1\n")
    with pytest.raises(CommandError, match="has no attribute 'app'"):
        import_target("cliapp_empty:app", cwd=modules)


def test_not_an_app(modules: Path) -> None:
    (modules / "cliapp_notapp.py").write_text("app = 42\n")
    with pytest.raises(CommandError, match="is a int, not a vincent app"):
        load_app("cliapp_notapp:app", cwd=modules)


def test_a_module_that_raises_shows_the_users_traceback(modules: Path) -> None:
    (modules / "cliapp_broken.py").write_text("import os\n\ndef boom():\n    1 / 0\n\nboom()\n")
    with pytest.raises(UserCodeError) as caught:
        import_target("cliapp_broken:app", cwd=modules)
    error = caught.value
    assert error.code == USAGE
    assert "ZeroDivisionError" in error.message
    assert error.details.startswith("Traceback (most recent call last):")
    assert 'cliapp_broken.py", line 6' in error.details
    assert 'cliapp_broken.py", line 4, in boom' in error.details
    assert "importlib" not in error.details
    assert "vincent_cli" not in error.details


def test_a_missing_dependency_of_the_module_is_the_users_error(modules: Path) -> None:
    (modules / "cliapp_dep.py").write_text("import no_such_dependency_y\n")
    with pytest.raises(UserCodeError, match="ModuleNotFoundError") as caught:
        import_target("cliapp_dep:app", cwd=modules)
    assert "no_such_dependency_y" in caught.value.details
