"""`vincent call`: replies in both output modes, bodies from everywhere, every exit code."""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli, Proc

pytestmark = pytest.mark.rabbitmq


def test_json_reply_in_a_pipe_is_one_compact_line(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.echo", '{"key_id": 1234, "name": "é"}')
    assert result.code == 0, result.stderr
    assert result.stdout == '{"key_id":1234,"name":"é"}\n'.encode()


def test_json_reply_on_a_terminal_is_pretty(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.in_terminal("call", f"{prefix}.echo", "a:=[1,2]", NO_COLOR="1").finish()
    assert result.code == 0
    assert result.stdout.replace(b"\r\n", b"\n") == b'{\n  "a": [\n    1,\n    2\n  ]\n}\n'


def test_bytes_reply_is_written_raw_to_a_pipe(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.bytes")
    assert result.code == 0, result.stderr
    assert result.stdout == bytes(range(256)) * 4


def test_bytes_reply_on_a_terminal_is_a_note(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.in_terminal("call", f"{prefix}.bytes").finish()
    assert result.code == 0
    assert b"binary data: 1.0 KiB, application/octet-stream" in result.stdout
    assert bytes(range(256)) not in result.stdout


def test_items_syntax_edge_cases_reach_the_handler(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run(
        "call",
        f"{prefix}.echo",
        r"a\=b=1",
        r"c\:d:=2",
        "clé=été ✓",
        'nested:={"x": [1, {"y": null}]}',
        "url=http://h/?q=1",
    )
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout) == {
        "a=b": "1",
        "c:d": 2,
        "clé": "été ✓",
        "nested": {"x": [1, {"y": None}]},
        "url": "http://h/?q=1",
    }


def test_body_from_stdin_and_from_a_file(
    cli: Cli, prefix: str, worker: Proc, tmp_path: Path
) -> None:
    result = cli.run("call", f"{prefix}.echo", "-", "extra=1", input=b'{"from": "stdin"}')
    assert orjson.loads(result.stdout) == {"from": "stdin", "extra": "1"}
    body = tmp_path / "body.json"
    body.write_text('{"from": "file"}')
    result = cli.run("call", f"{prefix}.echo", f"@{body}")
    assert orjson.loads(result.stdout) == {"from": "file"}


def test_headers_reach_the_handler(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.headers", "-H", "x-origin: ops", "-H", "x-n:1")
    assert result.code == 0, result.stderr
    assert {"x-origin": "ops", "x-n": "1"}.items() <= orjson.loads(result.stdout).items()


def test_remote_error_exits_1_with_type_message_and_traceback(
    cli: Cli, prefix: str, worker: Proc
) -> None:
    result = cli.run("call", f"{prefix}.boom", "n:=7")
    assert result.code == 1
    assert result.stdout == b""
    assert "vincent: error: the remote handler raised ValueError: boom: {'n': 7}" in result.stderr
    assert "Remote traceback:" in result.stderr
    assert 'apps/echo.py", line' in result.stderr
    assert "vincent_cli" not in result.stderr


def test_timeout_exits_3(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.slow", "seconds:=5", "--timeout", "0.5")
    assert result.code == 3
    assert "timed out after 0.5s" in result.stderr
    assert "Traceback" not in result.stderr


def test_unbound_key_exits_4(cli: Cli, prefix: str) -> None:
    for command in ("call", "cast"):
        result = cli.run(command, f"{prefix}.nobody", "a=1")
        assert result.code == 4, result.stderr
        assert result.stderr.strip() == (
            f"vincent: error: no route: nothing is bound to '{prefix}.nobody' "
            f"on exchange '{cli.env['VINCENT_EXCHANGE']}'"
        )


def test_bad_json_exits_2_and_sends_nothing(cli: Cli, prefix: str) -> None:
    result = cli.run("call", f"{prefix}.echo", '{"a": }')
    assert result.code == 2
    assert "BODY is not valid JSON" in result.stderr
    assert "line 1, column 7" in result.stderr


def test_unreadable_file_exits_2(cli: Cli, prefix: str, tmp_path: Path) -> None:
    result = cli.run("cast", f"{prefix}.echo", f"@{tmp_path / 'missing.json'}")
    assert result.code == 2
    assert "cannot read @" in result.stderr and "No such file" in result.stderr


def test_wrong_password_exits_5_with_the_url_masked(cli: Cli, broker_url: str) -> None:
    wrong = broker_url.replace("guest:guest@", "guest:s3cret-wrong@")
    assert wrong != broker_url
    result = cli.run("--broker", wrong, "call", "any.key")
    assert result.code == 5
    assert "authentication failed" in result.stderr
    assert "s3cret-wrong" not in result.stderr
    assert "guest:***@" in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_port_exits_5_with_a_hint(cli: Cli) -> None:
    result = cli.run("cast", "any.key", VINCENT_BROKER_URL="amqp://guest:pw@127.0.0.1:1/")
    assert result.code == 5
    first, hint = result.stderr.strip().splitlines()
    assert first.startswith("vincent: error: cannot connect to amqp://guest:***@127.0.0.1:1/")
    assert "VINCENT_BROKER_URL" in hint and "make demo" in hint


def test_dry_run_prints_the_exact_message_and_sends_nothing(cli: Cli, prefix: str) -> None:
    tap = cli.listen(f"{prefix}.#", "--idle-timeout", "1")
    result = cli.run("call", "--dry-run", f"{prefix}.echo", "a:=1", "--timeout", "5", "-H", "x:y")
    assert result.code == 0, result.stderr
    (message,) = result.lines
    assert message["exchange"] == cli.env["VINCENT_EXCHANGE"]
    assert message["key"] == f"{prefix}.echo"
    assert message["body"] == {"a": 1}
    assert message["headers"]["x"] == "y"
    assert message["properties"]["reply_to"] == "amq.rabbitmq.reply-to"
    assert message["properties"]["expiration"] == "5000"
    assert tap.finish().code == 3  # the tap saw nothing


def test_ctrl_c_while_waiting_exits_130(cli: Cli, prefix: str, worker: Proc) -> None:
    tap = cli.listen(f"{prefix}.slow", "--count", "1", "--timeout", "30")
    waiting = cli.start("call", f"{prefix}.slow", "seconds:=2", "--timeout", "60")
    tap.finish()  # the request is out: the call is waiting for its reply
    waiting.signal(signal.SIGINT)
    result = waiting.finish()
    assert result.code == 130
    assert "Traceback" not in result.stderr
