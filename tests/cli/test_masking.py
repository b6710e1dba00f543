"""No password is ever printed, whatever the URL's shape (CONTRACT 6.3).

Every shape goes through the CLI's error paths; ALL output (stdout and stderr) is
searched for the secret, raw and percent-encoded.
"""

from __future__ import annotations

import io
import signal
import urllib.parse
import uuid
from collections.abc import Callable

import pytest

from tests.cli.helpers import Cli
from tests.fixtures.rabbit import RabbitNode

SECRET = "S3cr3tPw"

#: every shape a broker URL takes in the wild; all point at closed ports
BROKER_SHAPES = [
    f"u:{SECRET}@127.0.0.1:1",  # no scheme
    f"amqp://u:p@{SECRET}@127.0.0.1:1/",  # "@" inside the password
    f"amqp://u:{SECRET}:x@127.0.0.1:1/",  # ":" inside the password
    f"amqp://u:{SECRET}@127.0.0.1:1/,amqp://v:{SECRET}2@127.0.0.1:2/",  # a cluster
    f"amqp://u:{SECRET}@127.0.0.1:1, amqp://v:{SECRET}@127.0.0.1:2",
    f"amqp://u:{SECRET}@[::1]:1/",  # IPv6
    f"amqps://u:{SECRET}@127.0.0.1:1/vh?heartbeat=5&password={SECRET}",  # query
    f"amqp://u:p%40{SECRET}%3A@127.0.0.1:1/",  # percent-encoded
    f"amqp://u:{SECRET}/x@127.0.0.1:1/",  # an unencoded "/" cuts the host short
    f"amqp://u:{SECRET}",  # no host at all
    f"amqp://u:{SECRET}@127.0.0.1:notaport/",
    f"http://u:{SECRET}@127.0.0.1:1/",  # not an AMQP URL
]

API_SHAPES = [
    f"http://admin:{SECRET}@127.0.0.1:1",
    f"http://admin:a@{SECRET}@127.0.0.1:1/",
    f"https://admin:{SECRET}@[::1]:1/api",
    f"admin:{SECRET}@127.0.0.1:1",
    f"http://admin:{SECRET}@127.0.0.1:notaport",
]

#: the error paths: the settings table, the client (call), the one-shot cast, serve's logs
COMMANDS = [
    ("config",),
    ("call", "some.key", "--timeout", "3"),
    ("cast", "some.key", "n:=1"),
    ("serve", "tests.cli.apps.echo:app", "--log-format", "plain"),
]


def _leaks(text: str) -> bool:
    lowered = text.lower()
    return any(
        form.lower() in lowered
        for form in (SECRET, urllib.parse.quote(SECRET), SECRET[2:], SECRET[:-2])
    )


def _with_env(cli: Cli, env: dict[str, str]) -> Cli:
    return Cli({**cli.env, **env}, cwd=cli.cwd)


@pytest.mark.parametrize("url", BROKER_SHAPES)
def test_broker_passwords_never_printed(offline_cli: Cli, url: str) -> None:
    for index, command in enumerate(COMMANDS):
        # From the environment and from --broker, in turn.
        where = {"VINCENT_BROKER_URL": url} if index % 2 else {}
        args = command if where else ("--broker", url, *command)
        result = _with_env(offline_cli, where).run(*args, timeout=30)
        output = result.stdout.decode("utf-8", "replace") + result.stderr
        assert not _leaks(output), (command, output)
        assert "Traceback" not in output, (command, output)
        assert "No such option" not in output, output


@pytest.mark.parametrize("api", API_SHAPES)
def test_api_passwords_never_printed(offline_cli: Cli, api: str) -> None:
    for args, env in (
        (("queues", "--api", api), {}),
        (("queues",), {"VINCENT_API_URL": api}),
        (("config",), {"VINCENT_API_URL": api}),
    ):
        result = _with_env(offline_cli, env).run(*args, timeout=30)
        output = result.stdout.decode("utf-8", "replace") + result.stderr
        assert not _leaks(output), (args, output)
        assert "No such option" not in output, output


def test_a_password_with_at_and_colon_connects_and_is_masked_in_logs(
    cli: Cli, rabbit_node: RabbitNode, ns: Callable[..., str]
) -> None:
    user, password = f"u{uuid.uuid4().hex[:8]}", f"p@{SECRET}:x"
    rabbit_node.rabbitmqctl("add_user", user, password)
    try:
        rabbit_node.rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
        url = f"amqp://{user}:{password}@127.0.0.1:{rabbit_node.amqp_port}/"
        health = cli.run("health", VINCENT_BROKER_URL=url)
        assert health.code == 0, health.stderr
        assert f"amqp://{user}:***@127.0.0.1" in health.stdout.decode()
        worker = cli.serve("echo", "--log-format", "plain", VINCENT_BROKER_URL=url, CLI_PREFIX=ns())
        worker.signal(signal.SIGTERM)
        done = worker.finish()
        output = done.stdout.decode() + done.stderr
        assert f"{user}:***@127.0.0.1" in output
        assert not _leaks(output), output
    finally:
        rabbit_node.rabbitmqctl("delete_user", user)


def test_tracebacks_and_log_records_are_masked() -> None:
    import logging

    from vincent_cli.exit_codes import report
    from vincent_cli.logs import LogFormat, configure_logging
    from vincent_cli.output.emit import Output

    err = io.StringIO()
    output = Output.for_streams(stdout=io.StringIO(), stderr=err, environ={})
    with pytest.raises(RuntimeError) as caught:
        raise RuntimeError(f"bug while talking to amqp://u:{SECRET}@h:5672/")
    assert report(caught.value, output) == 1
    assert "Traceback" in err.getvalue() and not _leaks(err.getvalue())

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        for chosen in (LogFormat.plain, LogFormat.json):
            configure_logging("info", chosen, stream)
            logging.getLogger("x").warning("lost %s", f"u:{SECRET}@h:1")
            logging.getLogger("x").error("handler failed for key %s", "k\x1b[2J")
            try:
                raise ValueError(f"amqp://u:{SECRET}@h")
            except ValueError:
                logging.getLogger("x").exception("failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "u:***@h:1" in stream.getvalue()
    assert "\x1b" not in stream.getvalue()  # escaped in plain lines, by JSON in JSON ones
    assert not _leaks(stream.getvalue()), stream.getvalue()
