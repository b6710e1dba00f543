"""Operations: `vincent health`, `serve --metrics-port` and `serve --log-format`."""

from __future__ import annotations

import functools
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli, Proc
from tests.poll import wait_until

pytestmark = pytest.mark.rabbitmq

ECHO = "tests.cli.apps.echo:app"


def fetch(port: int, path: str) -> tuple[int, str]:
    """``(status, body)`` of a GET on the local metrics server; ``(0, error)`` if down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def healthy(port: int) -> bool:
    return fetch(port, "/healthz")[0] == 200


def free_port_pair() -> int:
    """A port N with N+1 free too (for two workers)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("", port + 1))
                except OSError:
                    continue
                return port
    raise AssertionError("no two consecutive free ports")


def json_logs(proc: Proc) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in proc.stderr.lines if line.startswith(b"{")]


def test_health_exit_codes_follow_the_broker_and_the_workers(
    cli: Cli, offline_cli: Cli, ns: Callable[..., str]
) -> None:
    down = offline_cli.run("health")
    assert down.code == 5
    assert down.stderr.startswith("vincent: error: cannot connect to amqp://guest:***@")
    assert "Traceback" not in down.stderr

    up = cli.run("health")
    assert up.code == 0, up.stderr
    assert up.lines[0]["healthy"] is True

    prefix = ns()
    never_served = cli.run("health", ECHO, CLI_PREFIX=prefix)
    assert never_served.code == 6
    assert never_served.stderr.count("\n") == 1
    assert f"not declared (no worker ever started?): {prefix}.echo" in never_served.stderr

    worker = cli.serve("echo", CLI_PREFIX=prefix)
    served = cli.run("health", ECHO, CLI_PREFIX=prefix)
    assert served.code == 0, served.stderr
    queues = {q["name"]: q["consumers"] for q in served.lines[0]["queues"]}
    assert queues[f"{prefix}.echo"] == 1
    assert len(queues) == 6

    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    stopped = cli.run("health", ECHO, CLI_PREFIX=prefix)
    assert stopped.code == 6
    assert f"unhealthy: no consumers on {prefix}.echo" in stopped.stderr


def test_health_on_a_terminal_is_one_readable_line(cli: Cli) -> None:
    result = cli.in_terminal("health").finish()
    assert result.code == 0
    assert result.stdout.decode().strip().startswith("ok: amqp://guest:***@127.0.0.1:")


def test_serve_metrics_and_json_logs_with_trace(cli: Cli, ns: Callable[..., str]) -> None:
    prefix = ns()
    worker = cli.serve("echo", "--metrics-port", "0", "--log-format", "json", CLI_PREFIX=prefix)
    announced = orjson.loads(worker.stderr.wait_for(lambda line: b"metrics on" in line))
    port = int(str(announced["message"]).split(":")[2].split("/")[0])
    for n in range(3):
        assert cli.run("call", f"{prefix}.echo", f"n:={n}").code == 0
    assert cli.run("call", f"{prefix}.boom", "x=1").code == 1

    status, text = fetch(port, "/healthz")
    assert (status, text.strip()) == (200, "ok")
    status, metrics = fetch(port, "/metrics")
    assert status == 200
    assert f'vincent_messages_total{{key="{prefix}.echo",outcome="handled"}} 3.0' in metrics
    assert f'vincent_messages_total{{key="{prefix}.boom",outcome="failed"}} 1.0' in metrics
    assert 'vincent_connection_state{state="connected"} 1.0' in metrics

    worker.stderr.wait_for(lambda line: b"handler raised" in line)
    raised = next(e for e in json_logs(worker) if "handler raised" in str(e["message"]))
    assert raised["level"] == "info"
    assert len(str(raised["trace_id"])) == 32
    assert raised["trace_chain"] == [f"{prefix}.boom"]
    assert all({"ts", "level", "logger", "pid", "message"} <= set(e) for e in json_logs(worker))

    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    assert fetch(port, "/healthz")[0] == 0  # the server stopped with the worker


def test_each_worker_process_serves_metrics_on_its_own_port(
    cli: Cli, ns: Callable[..., str]
) -> None:
    port = free_port_pair()
    supervisor = cli.serve(
        "echo", "--workers", "2", "--grace", "5", "--metrics-port", str(port), CLI_PREFIX=ns()
    )
    for worker_port in (port, port + 1):
        wait_until(functools.partial(healthy, worker_port), interval=0.1)
        status, metrics = fetch(worker_port, "/metrics")
        assert status == 200
        assert "vincent_connection_state" in metrics
    # Not a terminal: plain lines, with the pid after the time.
    started = supervisor.stderr.wait_for(lambda line: b"serving" in line)
    assert b" INFO vincent: serving " in started
    supervisor.signal(signal.SIGTERM)
    assert supervisor.finish().code == 0


def test_a_busy_metrics_port_is_a_usage_error(cli: Cli, ns: Callable[..., str]) -> None:
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli.run("serve", ECHO, "--metrics-port", str(port), CLI_PREFIX=ns())
    assert result.code == 2
    assert f"cannot serve metrics on port {port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_logs_with_rich_on_a_terminal(cli: Cli, ns: Callable[..., str]) -> None:
    proc = cli.in_terminal("serve", ECHO, CLI_PREFIX=ns(), NO_COLOR="1")
    line = proc.stdout.wait_for(lambda line: b"serving" in line)
    assert b"INFO" in line
    assert not line.lstrip().startswith(b"{")
    proc.signal(signal.SIGTERM)
    assert proc.finish().code == 0


PROBE_APP = """
import sys

from vincent_core import Vincent

app = Vincent()


@app.listen("{key}")
async def echo(msg):
    return msg.body


@app.on_start
async def ready(client):
    print("READY", "prometheus_client" in sys.modules, flush=True)
"""


def test_without_metrics_port_prometheus_is_never_imported(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    module = tmp_path / f"probe_{ns().lstrip('t')}.py"
    module.write_text(PROBE_APP.format(key=ns("echo")))
    path = f"{cli.env['PYTHONPATH']}:{tmp_path}"
    plain = cli.start("serve", f"{module.stem}:app", PYTHONPATH=path)
    assert plain.stdout.wait_for(lambda line: line.startswith(b"READY")) == b"READY False\n"
    plain.signal(signal.SIGTERM)
    assert plain.finish().code == 0
    metered = cli.start("serve", f"{module.stem}:app", "--metrics-port", "0", PYTHONPATH=path)
    assert metered.stdout.wait_for(lambda line: line.startswith(b"READY")) == b"READY True\n"
    metered.signal(signal.SIGTERM)
    assert metered.finish().code == 0


def test_health_gives_up_after_its_timeout(offline_cli: Cli) -> None:
    # A port that accepts TCP but never speaks AMQP: the handshake hangs.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        result = offline_cli.run("--broker", url, "health", "--timeout", "1")
        took = time.monotonic() - started
    assert result.code == 3, result.stderr
    assert "health check of amqp://guest:***@127.0.0.1:" in result.stderr
    assert "took longer than 1s" in result.stderr
    assert took < 30
