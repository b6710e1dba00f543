"""`vincent serve` and `vincent routes`: one process, supervised workers, reload, bad apps."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli
from tests.poll import wait_until

pytestmark = pytest.mark.rabbitmq

RELOADABLE = """
from vincent_core import Vincent

app = Vincent()


@app.listen("{key}")
async def version(msg):
    return {version}


@app.on_start
async def ready(client):
    print("READY", flush=True)
"""


def consumers(cli: Cli, queue: str) -> int:
    result = cli.run("queues", queue)
    return int(orjson.loads(result.stdout)["consumers"]) if result.code == 0 else 0


def test_serve_answers_and_stops_on_sigterm(cli: Cli, ns: Callable[..., str]) -> None:
    worker = cli.serve("echo", CLI_PREFIX=ns())
    assert cli.run("call", ns("echo"), "a=1").stdout == b'{"a":"1"}\n'
    worker.signal(signal.SIGTERM)
    result = worker.finish(timeout=60)
    assert result.code == 0
    assert "Traceback" not in result.stderr


def test_workers_are_processes_sharing_the_queue(cli: Cli, ns: Callable[..., str]) -> None:
    supervisor = cli.serve("echo", "--workers", "2", "--grace", "5", CLI_PREFIX=ns())
    supervisor.stdout.wait_for(lambda line: len(supervisor.stdout.lines) >= 2)
    pids = {line.split()[1] for line in supervisor.stdout.lines if line.startswith(b"READY")}
    assert len(pids) == 2
    wait_until(lambda: consumers(cli, ns("echo")) == 2)
    for n in range(4):
        assert cli.run("call", ns("echo"), f"n:={n}").code == 0
    supervisor.signal(signal.SIGINT)  # Ctrl-C: forwarded once, graceful
    result = supervisor.finish(timeout=60)
    assert result.code == 0, result.stderr
    assert consumers(cli, ns("echo")) == 0


def test_a_dead_worker_is_restarted(cli: Cli, ns: Callable[..., str]) -> None:
    supervisor = cli.serve("echo", "--workers", "2", "--grace", "5", CLI_PREFIX=ns())
    supervisor.stdout.wait_for(lambda line: len(supervisor.stdout.lines) >= 2)
    victim = int(supervisor.stdout.lines[0].split()[1])
    os.kill(victim, signal.SIGKILL)
    supervisor.stdout.wait_for(lambda line: len(supervisor.stdout.lines) >= 3)
    assert "restarting" in b"".join(supervisor.stderr.lines).decode()
    wait_until(lambda: consumers(cli, ns("echo")) == 2)
    supervisor.signal(signal.SIGTERM)
    assert supervisor.finish(timeout=60).code == 0


def test_reload_with_workers_restarts_them_on_change(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    module = tmp_path / f"reloadable_{ns().replace('.', '_')}.py"
    module.write_text(RELOADABLE.format(key=ns("version"), version=1))
    cli.cwd = tmp_path
    supervisor = cli.start(
        "serve", f"{module.stem}:app", "--workers", "2", "--reload", "--grace", "5"
    )
    supervisor.stdout.wait_for(lambda line: len(supervisor.stdout.lines) >= 2)
    assert cli.run("call", ns("version")).stdout == b"1\n"
    module.write_text(RELOADABLE.format(key=ns("version"), version=2))
    supervisor.stdout.wait_for(lambda line: len(supervisor.stdout.lines) >= 4)
    wait_until(lambda: cli.run("call", ns("version")).stdout == b"2\n")
    supervisor.signal(signal.SIGTERM)
    result = supervisor.finish(timeout=60)
    assert result.code == 0
    assert "restarting the workers" in result.stderr


def test_bad_target_exits_2(cli: Cli) -> None:
    for target, message in (
        ("nocolon", "is not MODULE:OBJ"),
        ("no_such_module_zz:app", "cannot import 'no_such_module_zz'"),
        ("tests.cli.apps.echo:nope", "has no attribute 'nope'"),
        ("tests.cli.apps.echo:PREFIX", "not a vincent app"),
    ):
        for command in ("serve", "routes"):
            result = cli.run(command, target)
            assert result.code == 2, (command, target, result.stderr)
            assert message in result.stderr
            assert "Traceback" not in result.stderr


def test_a_module_raising_on_import_shows_the_users_traceback(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "broken_app.py").write_text(
        "def setup():\n    raise KeyError('config')\n\nsetup()\n"
    )
    cli.cwd = tmp_path
    for command in ("serve", "routes"):
        result = cli.run(command, "broken_app:app")
        assert result.code == 2
        assert result.stderr.startswith("Traceback (most recent call last):")
        assert 'broken_app.py", line 2, in setup' in result.stderr
        assert "KeyError: 'config'" in result.stderr
        assert "vincent_cli" not in result.stderr and "importlib" not in result.stderr
        assert "vincent: error: importing 'broken_app' raised KeyError" in result.stderr


def test_workers_stop_when_the_app_cannot_load(cli: Cli) -> None:
    result = cli.run("serve", "no_such_module_zz:app", "--workers", "2")
    assert result.code == 2
    assert "vincent: error: cannot import 'no_such_module_zz'" in result.stderr
    assert "cannot load or start the app (exit 2): stopping" in result.stderr
    assert "Traceback" not in result.stderr


FAILING_HOOK = """
from vincent_core import Vincent

app = Vincent()


@app.listen("{key}")
async def never(msg):
    return None


@app.on_start
async def load_model(client):
    {body}
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_on_start_hook_that_raises_shows_the_users_traceback(
    cli: Cli, ns: Callable[..., str], tmp_path: Path, workers: str
) -> None:
    body = "raise RuntimeError('no model file')"
    (tmp_path / "hook_app.py").write_text(FAILING_HOOK.format(key=ns("never"), body=body))
    cli.cwd = tmp_path
    result = cli.run("serve", "hook_app:app", "--workers", workers, "--grace", "5")
    assert result.code == 2, result.stderr
    # The traceback starts at the user's frame (each worker prints its own).
    assert re.search(
        r'^Traceback \(most recent call last\):\n  File ".*hook_app\.py", line 14, in load_model\n',
        result.stderr,
        re.MULTILINE,
    ), result.stderr
    assert "RuntimeError: no model file" in result.stderr
    for internal in ("vincent_cli", "vincent_core", "asyncio", "this is a bug in vincent"):
        assert internal not in result.stderr, result.stderr
    assert "vincent: error: serving hook_app:app raised RuntimeError" in result.stderr
    if workers == "2":  # the supervisor stops instead of restarting them forever
        assert "cannot load or start the app (exit 2): stopping" in result.stderr


def test_an_on_start_hook_whose_call_fails_says_so_in_one_line(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    body = f"await client.call({ns('nobody')!r}, {{}})"
    (tmp_path / "hook_app.py").write_text(FAILING_HOOK.format(key=ns("never"), body=body))
    cli.cwd = tmp_path
    result = cli.run("serve", "hook_app:app")
    assert result.code == 4, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"vincent: error: no route: nothing is bound to {ns('nobody')!r} on exchange "
        f"{cli.env['VINCENT_EXCHANGE']!r}"
    ]


def test_an_on_start_hook_raising_a_vincent_error_says_so_in_one_line(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    body = "from vincent_core.errors import ConnectionFailed; raise ConnectionFailed('no db')"
    (tmp_path / "hook_app.py").write_text(FAILING_HOOK.format(key=ns("never"), body=body))
    cli.cwd = tmp_path
    result = cli.run("serve", "hook_app:app")
    assert result.code == 5, result.stderr
    assert result.stderr.startswith("vincent: error: no db\nhint: "), result.stderr
    assert "Traceback" not in result.stderr


def test_routes_lists_the_listeners(cli: Cli) -> None:
    result = cli.run("routes", "tests.cli.apps.echo:app", CLI_PREFIX="p")
    assert result.code == 0, result.stderr
    rows = {row["key"]: row for row in result.lines}
    assert rows["p.echo"] == {
        "key": "p.echo",
        "queue": "p.echo",
        "route_to": "one",
        "handler": "tests.cli.apps.echo.echo",
    }
    assert set(rows) >= {"p.boom", "p.bytes", "p.fail", "p.slow"}
    table = cli.in_terminal("routes", "tests.cli.apps.echo:app", CLI_PREFIX="p", NO_COLOR="1")
    text = table.finish().stdout.decode()
    assert "route_to" in text and "p.echo" in text and "{" not in text
