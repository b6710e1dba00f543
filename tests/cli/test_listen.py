"""`vincent cast` → `vincent listen`: both output modes, stop conditions, signals, --queue."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import VINCENT, Cli
from tests.poll import wait_until

pytestmark = pytest.mark.rabbitmq


def test_cast_then_listen_in_a_pipe_gives_record_lines(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("*"), "--count", "2", "--timeout", "30")
    assert cli.run("cast", ns("a"), '{"n": 1}', "-H", "x-origin:test").code == 0
    assert cli.run("cast", ns("b"), "n:=2", "--ttl", "5").code == 0
    result = tap.finish()
    assert result.code == 0, result.stderr
    first, second = result.lines
    assert first["key"] == ns("a") and first["body"] == {"n": 1}
    assert first["exchange"] == cli.env["VINCENT_EXCHANGE"]
    assert first["headers"]["x-origin"] == "test"
    assert first["properties"]["content_type"] == "application/json"
    assert first["properties"]["delivery_mode"] == 2
    assert second["key"] == ns("b") and second["body"] == {"n": 2}
    assert second["properties"]["expiration"] == "5000"
    assert "ts" in first


def test_cast_prints_its_message_id_in_a_pipe(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("k"), "--count", "1", "--timeout", "30")
    cast = cli.run("cast", ns("k"))
    assert cast.code == 0
    (sent,) = cast.lines
    (seen,) = tap.finish().lines
    assert sent == {"key": ns("k"), "message_id": seen["properties"]["message_id"]}
    assert seen["body"] == {}


def test_listen_on_a_terminal_is_a_readable_live_view(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.in_terminal("listen", ns("k"), "--count", "2", "--timeout", "30", NO_COLOR="1")
    tap.stdout.wait_for(lambda line: line.startswith(b"listening on"))
    assert cli.run("cast", ns("k"), "n:=1").code == 0
    assert cli.run("call", "--timeout", "0.5", ns("k"), "n:=2").code == 3  # nobody answers
    result = tap.finish()
    text = result.stdout.decode()
    assert result.code == 0, text
    cast_line, call_line = [line for line in text.splitlines() if ns("k") in line][-2:]
    assert f'{ns("k")}  {{"n":1}}' in cast_line
    assert f'{ns("k")}  {{"n":2}}' in call_line and "→ call #" in call_line
    assert '"ts"' not in text


def test_binary_bodies_are_base64_in_records(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    tap = cli.listen(ns("bin"), "--count", "1", "--timeout", "30")
    assert cli.run("cast", ns("bin"), f"@{blob}", "--binary").code == 0
    (record,) = tap.finish().lines
    assert "body" not in record
    assert record["properties"]["content_type"] == "application/octet-stream"
    import base64

    assert base64.b64decode(record["body_b64"]) == bytes(range(256))


def test_timeout_with_nothing_received_exits_3(cli: Cli, ns: Callable[..., str]) -> None:
    result = cli.listen(ns("quiet"), "--timeout", "0.5").finish()
    assert result.code == 3
    assert result.stdout == b""


def test_idle_timeout_after_traffic_exits_0(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("k"), "--idle-timeout", "1")
    assert cli.run("cast", ns("k")).code == 0
    result = tap.finish()
    assert result.code == 0
    assert len(result.lines) == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_signals_stop_cleanly_with_everything_flushed(
    cli: Cli, ns: Callable[..., str], signum: int, code: int
) -> None:
    tap = cli.listen(ns("k"))
    assert cli.run("cast", ns("k"), "n:=1", "--count", "5").code == 0
    tap.stdout.wait_for(lambda line: line.count(b'"key"') == 1 and len(tap.stdout.lines) >= 5)
    tap.signal(signum)
    result = tap.finish()
    assert result.code == code
    assert len(result.lines) == 5
    assert "Traceback" not in result.stderr


def test_listen_needs_a_pattern_or_a_queue(cli: Cli) -> None:
    result = cli.run("listen")
    assert result.code == 2
    assert "PATTERN" in result.stderr and "--queue" in result.stderr


def test_bad_pattern_exits_2(cli: Cli) -> None:
    assert cli.run("listen", "").code == 2


def test_listen_does_not_steal_from_a_worker(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    sink = tmp_path / "sink.log"
    worker = cli.serve("echo", CLI_PREFIX=ns(), CLI_SINK=str(sink))
    tap = cli.listen(ns("echo"), "--count", "20", "--timeout", "60")
    assert cli.run("cast", ns("echo"), "n:=1", "--count", "20").code == 0
    seen = tap.finish()
    assert seen.code == 0
    assert len(seen.lines) == 20
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0  # graceful: every handled message is acked
    assert len(sink.read_text().splitlines()) == 20


def test_queue_mode_takes_messages_and_warns(cli: Cli, ns: Callable[..., str]) -> None:
    worker = cli.serve("echo", CLI_PREFIX=ns())  # declares the queue <prefix>.echo
    worker.signal(signal.SIGTERM)
    assert worker.finish().code == 0
    assert cli.run("cast", ns("echo"), "n:=1", "--count", "3").code == 0
    result = cli.run("listen", "--queue", ns("echo"), "--count", "2", "--timeout", "30")
    assert result.code == 0, result.stderr
    assert "takes its messages from the workers" in result.stderr
    assert [line["body"] for line in result.lines] == [{"n": 1}, {"n": 1}]
    depth = cli.run("queues", ns("echo"))
    assert orjson.loads(depth.stdout)["messages"] == 1  # two were taken, one is left


def test_a_closed_pipe_ends_listen_cleanly(cli: Cli, ns: Callable[..., str]) -> None:
    # `vincent listen K | head -n 1`: the reader goes away after one line; the next write
    # ends listen with exit 0 and nothing on stderr (click alone would exit 1).
    process = subprocess.Popen(
        [VINCENT, "listen", ns("k")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        assert process.stderr.readline().startswith(b"listening on")
        assert cli.run("cast", ns("k"), "n:=1").code == 0
        assert orjson.loads(process.stdout.readline())["body"] == {"n": 1}
        process.stdout.close()

        def ended() -> bool:
            # Listen notices that its reader left when it next writes: keep casting.
            if process.poll() is None:
                assert cli.run("cast", ns("k"), "n:=2").code == 0
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.5)
            return process.poll() is not None

        wait_until(ended, 30, what=lambda: "listen did not end after its reader left")
        assert process.returncode == 0
        assert process.stderr.read() == b""
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
