"""`vincent queues` and `vincent dead list|replay|purge` against the broker."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli, Proc
from tests.poll import wait_until

pytestmark = pytest.mark.rabbitmq


def depth(cli: Cli, queue: str) -> int:
    result = cli.run("queues", queue)
    assert result.code == 0, result.stderr
    return int(orjson.loads(result.stdout)["messages"])


def wait_for_depth(cli: Cli, queue: str, expected: int) -> None:
    wait_until(
        lambda: depth(cli, queue) == expected,
        what=lambda: f"{queue} holds {depth(cli, queue)}, not {expected}",
        interval=0.1,
    )


@pytest.fixture
def declared(cli: Cli, ns: Callable[..., str]) -> str:
    """The echo app's queues exist (served once, stopped), and the prefix."""
    worker = cli.serve("echo", CLI_PREFIX=ns())
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    return ns()


def test_queue_by_name(cli: Cli, declared: str) -> None:
    assert cli.run("cast", f"{declared}.echo", "--count", "3").code == 0
    result = cli.run("queues", f"{declared}.echo")
    assert result.code == 0
    assert result.lines == [{"name": f"{declared}.echo", "messages": 3, "consumers": 0}]


def test_missing_queue_exits_2(cli: Cli, ns: Callable[..., str]) -> None:
    result = cli.run("queues", ns("missing"))
    assert result.code == 2
    assert "no queue named" in result.stderr


def test_app_queues_with_a_glob(cli: Cli, declared: str) -> None:
    result = cli.run("queues", "--app", "tests.cli.apps.echo:app", CLI_PREFIX=declared)
    assert result.code == 0, result.stderr
    names = {row["name"] for row in result.lines}
    assert {f"{declared}.echo", f"{declared}.boom", f"{declared}.fail"} <= names
    only = cli.run(
        "queues", f"{declared}.b*", "--app", "tests.cli.apps.echo:app", CLI_PREFIX=declared
    )
    assert {row["name"] for row in only.lines} == {f"{declared}.boom", f"{declared}.bytes"}


def test_management_api_unreachable_is_a_warning(cli: Cli, declared: str) -> None:
    result = cli.run(
        "queues",
        "--api",
        "http://127.0.0.1:1",
        "--app",
        "tests.cli.apps.echo:app",
        CLI_PREFIX=declared,
    )
    assert result.code == 0
    assert "management API at http://127.0.0.1:1 not usable" in result.stderr
    assert any(row["name"] == f"{declared}.echo" for row in result.lines)


def test_dead_letters_list_replay_purge(cli: Cli, ns: Callable[..., str]) -> None:
    dead = ns("dead")
    worker: Proc = cli.serve("echo", CLI_PREFIX=ns(), CLI_DEAD=dead)
    assert cli.run("cast", ns("fail"), "n:=1").code == 0
    assert cli.run("cast", ns("fail"), "n:=2").code == 0
    wait_for_depth(cli, dead, 2)
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0

    listed = cli.run("dead", "list", "--queue", dead)
    assert listed.code == 0, listed.stderr
    first, second = listed.lines
    assert first["key"] == ns("fail") and first["body"] == {"n": 1}
    assert first["dead"]["reason"] == "error"
    assert first["dead"]["error_type"] == "RuntimeError"
    assert first["dead"]["error_message"] == "always fails"
    assert "Traceback" in first["dead"]["error_traceback"]
    assert not any(name.startswith("x-vincent-error") for name in first["headers"])
    assert second["body"] == {"n": 2}
    assert depth(cli, dead) == 2  # listing removes nothing
    assert len(cli.run("dead", "--queue", dead, "--count", "1").lines) == 1  # `dead` = `dead list`

    table = cli.in_terminal("dead", "list", "--queue", dead, NO_COLOR="1").finish()
    assert b"always fails" in table.stdout and b"RuntimeError" in table.stdout

    tap = cli.listen(ns("fail"), "--count", "1", "--timeout", "30")
    replayed = cli.run("dead", "replay", "--queue", dead, "--key", ns("*"), "--count", "1")
    assert replayed.code == 0, replayed.stderr
    assert "replayed 1 dead letter" in replayed.stderr
    (again,) = tap.finish().lines
    assert again["body"] == {"n": 1}
    assert again["exchange"] == cli.env["VINCENT_EXCHANGE"]
    assert depth(cli, dead) == 1

    none = cli.run("dead", "replay", "--queue", dead, "--key", "other.#")
    assert "replayed 0 dead letters" in none.stderr
    assert depth(cli, dead) == 1

    purged = cli.run("dead", "purge", "--queue", dead)  # no terminal: no question
    assert purged.code == 0
    assert "purged 1 message" in purged.stderr
    assert depth(cli, dead) == 0


def test_dead_replay_returns_letters_to_the_workers_queue(cli: Cli, ns: Callable[..., str]) -> None:
    dead = ns("dead")
    worker = cli.serve("echo", CLI_PREFIX=ns(), CLI_DEAD=dead)
    assert cli.run("cast", ns("fail")).code == 0
    wait_for_depth(cli, dead, 1)
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    result = cli.run("dead", "replay", "--queue", dead)
    assert result.code == 0
    wait_for_depth(cli, ns("fail"), 1)  # back in the worker's queue, waiting for it
    assert depth(cli, dead) == 0


def test_dead_replay_without_a_route_exits_4_and_keeps_the_letter(
    cli: Cli, declared: str, tmp_path: Path
) -> None:
    dead = f"{declared}.dead"  # declared by the echo app
    letter = orjson.loads(cli.run("cast", "--dry-run", f"{declared}.gone", "n:=1").stdout)
    letter.update(exchange="", key=dead)
    letter["headers"].update(
        {
            "x-vincent-original-exchange": cli.env["VINCENT_EXCHANGE"],
            "x-vincent-original-key": f"{declared}.gone",
            "x-vincent-reason": "error",
        }
    )
    path = tmp_path / "letter.jsonl"
    path.write_bytes(orjson.dumps(letter) + b"\n")
    assert cli.run("replay", "--keep-exchange", str(path)).code == 0
    assert depth(cli, dead) == 1
    result = cli.run("dead", "replay", "--queue", dead)
    assert result.code == 4
    assert f"no route for '{declared}.gone': left in {dead}" in result.stderr
    assert depth(cli, dead) == 1
