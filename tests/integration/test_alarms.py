"""A broker resource alarm, as an operator meets it: `vincent health` says so, and a
worker's reply that cannot be published does not hold its request forever.

Each test raises a real memory alarm on a node of its own
(``rabbitmqctl set_vm_memory_high_watermark absolute 10MB``), lifted in a ``finally``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.helpers import Cli, cli_env

pytestmark = [pytest.mark.rabbitmq]

ECHO = "tests.cli.apps.echo:app"


@contextlib.contextmanager
def memory_alarm(node: Any) -> Iterator[None]:
    """A memory alarm on ``node`` (every publishing connection gets blocked), lifted
    whatever happens."""
    node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "10MB")
    try:
        yield
    finally:
        node.rabbitmqctl("set_vm_memory_high_watermark", "0.4")


# -- vincent health -----------------------------------------------------------------------


def test_health_reports_a_broker_that_blocks_publishing(
    fresh_rabbit_node: Any, exchange: str, ns: Any
) -> None:
    cli = Cli(cli_env(fresh_rabbit_node.url, exchange))
    prefix = ns()
    try:
        cli.serve("echo", CLI_PREFIX=prefix)
        assert cli.run("health", ECHO, CLI_PREFIX=prefix).code == 0
        with memory_alarm(fresh_rabbit_node):
            started = time.monotonic()
            blocked = cli.run("health", ECHO, "--timeout", "2", CLI_PREFIX=prefix)
            assert time.monotonic() - started < 2 + 5 + 3  # the check, closing, start-up
            assert blocked.code == 6, blocked.stderr
            assert blocked.stderr.count("\n") == 1, blocked.stderr
            assert blocked.stderr.startswith("vincent: error: unhealthy: ")
            assert "blocks publishing" in blocked.stderr
            assert "Traceback" not in blocked.stderr

            # A readiness probe of a process that serves without publishing may accept it.
            allowed = cli.run("health", ECHO, "--allow-blocked", CLI_PREFIX=prefix)
            assert allowed.code == 0, allowed.stderr
            (report,) = allowed.lines
            assert report["healthy"] is True
            assert report["blocked"] is True
            assert {q["name"] for q in report["queues"]} >= {f"{prefix}.echo"}

            terminal = cli.in_terminal("health", "--allow-blocked").finish()
            assert terminal.code == 0
            text = terminal.stdout.decode().strip()
            assert text.startswith("blocked: amqp://guest:***@127.0.0.1:"), text
            assert "blocks publishing" in text

        # The alarm lifted: healthy again.
        healthy = cli.run("health", ECHO, CLI_PREFIX=prefix)
        assert healthy.code == 0, healthy.stderr
        assert healthy.lines[0]["blocked"] is False
    finally:
        cli.stop_all()
