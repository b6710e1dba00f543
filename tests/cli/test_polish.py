"""Issue 15 items 5, 7, 8 and 18 through the real executable: one pattern check, errors
in vincent's words, httpie's arrays, `dead list` at 80 columns, metrics on localhost,
`listen` saying nothing came, and a short grace for `--reload`."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli
from tests.poll import wait_until


@pytest.mark.parametrize(
    "argv",
    [
        ("listen", "thumb.mak*"),
        ("record", "thumb.mak*", "-o", "out.jsonl"),
        ("dead", "replay", "--key", "thumb.mak*"),
    ],
)
def test_partial_wildcards_are_refused_by_every_command(
    offline_cli: Cli, argv: tuple[str, ...]
) -> None:
    result = offline_cli.run(*argv, timeout=30)
    assert result.code == 2
    assert result.stderr == (
        "vincent: error: 'thumb.mak*': * and # stand for whole words between dots "
        "(try thumb.* or thumb.#)\n"
    )


def test_binary_file_without_binary(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xc3")
    result = offline_cli.run("cast", "--dry-run", "k", "@photo.jpg")
    assert result.code == 2
    assert result.stderr == (
        "vincent: error: @photo.jpg is not UTF-8 JSON; add --binary to send it as bytes\n"
    )


def test_items_given_twice_build_an_array(offline_cli: Cli) -> None:
    result = offline_cli.run("cast", "--dry-run", "k", "tag=a", "n:=1", "tag=b", "tag:=3")
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout)["body"] == {"tag": ["a", "b", 3], "n": 1}


def test_json_item_that_is_not_json_says_what_to_write(offline_cli: Cli) -> None:
    result = offline_cli.run("cast", "--dry-run", "k", "count:=notjson")
    assert result.code == 2
    assert "is not valid JSON" in result.stderr
    assert result.stderr.rstrip().endswith("for the string write count=notjson")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("listen", "--count", "0", "x"), "--count must be at least 1"),
        (("serve", "--workers", "many", "a:app"), "--workers must be a whole number"),
        (("replay", "--rate", "0", "f"), "--rate must be at least 0.001"),
    ],
)
def test_no_pydantic_phrasing(offline_cli: Cli, argv: tuple[str, ...], message: str) -> None:
    result = offline_cli.run(*argv)
    assert result.code == 2
    assert message in result.stderr
    assert "Input should" not in result.stderr and "Value error" not in result.stderr


def test_a_file_name_as_target_suggests_the_module(offline_cli: Cli) -> None:
    result = offline_cli.run("serve", "thumbs.py:app")
    assert result.code == 2
    assert result.stderr == (
        "vincent: error: 'thumbs.py:app' is not MODULE:OBJ (did you mean thumbs:app?)\n"
    )


@pytest.mark.rabbitmq
def test_listen_idle_timeout_says_nothing_came(cli: Cli, ns: Callable[..., str]) -> None:
    result = cli.run("listen", ns("quiet"), "--idle-timeout", "0.5")
    assert result.code == 3
    assert result.stderr.splitlines()[-1] == "nothing came within --idle-timeout 0.5s"


@pytest.mark.rabbitmq
def test_dead_list_counts_and_fits_80_columns(cli: Cli, ns: Callable[..., str]) -> None:
    dead = ns("dead")
    worker = cli.serve("echo", CLI_PREFIX=ns(), CLI_DEAD=dead)
    for n in range(3):
        assert cli.run("cast", ns("fail"), f"n:={n}").code == 0
    wait_until(lambda: cli.run("queues", dead).lines[0]["messages"] >= 3, 30, interval=0.1)
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0

    screen = cli.in_terminal(
        "dead", "list", "--queue", dead, "--count", "2", NO_COLOR="1", COLUMNS="80"
    ).finish()
    text = screen.stdout.decode().replace("\r\n", "\n")
    assert f"{dead}: 2 of 3" in text
    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
    assert len(stamps) == 2, text  # whole, on one line each
    assert all(len(line) <= 80 for line in text.splitlines())

    missing = cli.run("dead", "list", "--queue", ns("nosuch"))
    assert missing.code == 2
    queues = cli.run("queues", ns("nosuch"))
    assert missing.stderr == queues.stderr.replace(ns("nosuch"), ns("nosuch"))
    assert missing.stderr.startswith(f"vincent: error: no queue named '{ns('nosuch')}' on amqp://")


@pytest.mark.rabbitmq
def test_metrics_bind_localhost_unless_told(cli: Cli, ns: Callable[..., str]) -> None:
    pytest.importorskip("prometheus_client")
    worker = cli.serve("echo", "--metrics-port", "0", CLI_PREFIX=ns())
    line = worker.stderr.wait_for(lambda text: b"metrics on" in text).decode()
    assert "http://127.0.0.1:" in line
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    anywhere = cli.serve(
        "echo", "--metrics-port", "0", "--metrics-host", "0.0.0.0", CLI_PREFIX=ns()
    )
    assert b"http://0.0.0.0:" in anywhere.stderr.wait_for(lambda text: b"metrics on" in text)
    anywhere.signal(signal.SIGTERM)
    assert anywhere.finish().code == 0


SLOW_APP = """
import asyncio
from vincent_core import Message, Vincent

app = Vincent()

@app.listen({key!r})
async def slow(msg: Message) -> str:
    print("BUSY", flush=True)
    await asyncio.sleep(120)
    return "late"

@app.on_start
async def ready(client: object) -> None:
    print("READY", flush=True)
"""


@pytest.mark.rabbitmq
def test_reload_uses_a_short_grace(cli: Cli, ns: Callable[..., str], tmp_path: Path) -> None:
    module = tmp_path / f"slowapp_{ns().replace('.', '_')}.py"
    module.write_text(SLOW_APP.format(key=ns("slow")))
    cli.cwd = tmp_path
    supervisor = cli.start("serve", f"{module.stem}:app", "--reload", "--grace", "30")
    supervisor.stdout.wait_for(lambda line: line.startswith(b"READY"), timeout=60)
    assert cli.run("cast", ns("slow"), "n:=1").code == 0
    supervisor.stdout.wait_for(lambda line: line.startswith(b"BUSY"), timeout=30)
    changed = time.monotonic()
    module.write_text(SLOW_APP.format(key=ns("slow")) + "\n# changed\n")
    supervisor.stdout.wait_for(
        lambda line: sum(1 for seen in supervisor.stdout.lines if seen.startswith(b"READY")) >= 2,
        timeout=30,
    )
    assert time.monotonic() - changed < 15  # not the 30 s grace
    supervisor.signal(signal.SIGINT)
    supervisor.signal(signal.SIGINT)  # the redelivered message is busy again: stop at once
    result = supervisor.finish(timeout=60)
    assert "still busy after 2s" in result.stderr


def test_connection_hint_tells_a_pip_user_how_to_start_a_broker(offline_cli: Cli) -> None:
    result = offline_cli.run("call", "k", "--timeout", "5")
    assert result.code == 5
    hint = result.stderr.splitlines()[-1]
    assert "docker run -d -p 5672:5672 rabbitmq:3" in hint
    assert "apt-get install rabbitmq-server" in hint and "vincent dev" in hint


@pytest.mark.parametrize("columns", [72, 80, 120])
def test_urls_in_tables_never_fold_inside_host_port(offline_cli: Cli, columns: int) -> None:
    url = "amqps://ops:secret@rabbit-01.prod.example.com:5671/production"
    screen = offline_cli.in_terminal(
        "config", VINCENT_BROKER_URL=url, NO_COLOR="1", COLUMNS=str(columns)
    ).finish()
    text = screen.stdout.decode().replace("\r\n", "\n")
    assert all(len(line) <= columns for line in text.splitlines())
    assert "com:5671/" in text  # the port stays with its host
    assert "secret" not in text
