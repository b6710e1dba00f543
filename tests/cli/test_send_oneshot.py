"""One parser, one fast path for every `cast` and `call` option (issue 15 items 3, 4, 6,
9): checked through the real executable, with Python's import log as the witness that
no typer, asyncio or aiormq was loaded."""

from __future__ import annotations

import re
import time

import orjson
import pytest

from tests.cli.helpers import Cli, Proc

pytestmark = pytest.mark.rabbitmq

HEAVY = ("typer", "click", "pydantic", "asyncio", "aiormq", "aio_pika", "pamqp", "rich")


def heavy_imports(stderr: str) -> set[str]:
    """Top-level modules the import log (``PYTHONPROFILEIMPORTTIME``) shows as loaded."""
    loaded = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return loaded & set(HEAVY)


def without_import_log(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("-H", "x-origin:ops"),
        ("--ttl", "5"),
        ("--dry-run",),
        ("-H", "x-origin:ops", "--ttl", "5", "--output", "json"),
    ],
)
def test_every_cast_variant_takes_the_fast_path(
    cli: Cli, prefix: str, worker: Proc, options: tuple[str, ...]
) -> None:
    result = cli.run("cast", f"{prefix}.echo", "n:=1", *options, PYTHONPROFILEIMPORTTIME="1")
    assert result.code == 0, without_import_log(result.stderr)
    assert heavy_imports(result.stderr) == set()
    (line,) = result.lines
    if "--dry-run" in options:
        assert line["body"] == {"n": 1}
    else:
        assert line["key"] == f"{prefix}.echo"


def test_call_takes_the_fast_path_with_headers_and_ttl(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run(
        "call",
        f"{prefix}.headers",
        "-H",
        "x-origin:ops",
        "--ttl",
        "5",
        PYTHONPROFILEIMPORTTIME="1",
    )
    assert result.code == 0, without_import_log(result.stderr)
    assert heavy_imports(result.stderr) == set()
    assert orjson.loads(result.stdout)["x-origin"] == "ops"


def test_fast_call_reports_remote_errors_and_no_route(cli: Cli, prefix: str, worker: Proc) -> None:
    boom = cli.run("call", f"{prefix}.boom", "why=because")
    assert boom.code == 1
    assert "ValueError" in boom.stderr
    nothing = cli.run("call", f"{prefix}.nobody", "--timeout", "5")
    assert nothing.code == 4
    assert "nothing is bound" in nothing.stderr


def test_global_options_after_the_command(cli: Cli, prefix: str, worker: Proc) -> None:
    url, exchange = cli.env["VINCENT_BROKER_URL"], cli.env["VINCENT_EXCHANGE"]
    # The environment points elsewhere: only the options after the command can work.
    cli.env.update(VINCENT_BROKER_URL="amqp://guest:guest@127.0.0.1:1/", VINCENT_EXCHANGE="nope")
    cast = cli.run("cast", f"{prefix}.echo", "x=1", "--broker", url, "--exchange", exchange)
    assert cast.code == 0, cast.stderr
    call = cli.run("call", f"{prefix}.echo", "x=1", f"--broker={url}", "--exchange", exchange)
    assert call.code == 0, call.stderr
    assert orjson.loads(call.stdout) == {"x": "1"}
    queue = cli.run("queues", f"{prefix}.echo", "-b", url)
    assert queue.code == 0, queue.stderr
    assert queue.lines[0]["consumers"] == 1


def test_call_warns_at_once_when_the_queue_has_no_consumers(
    cli: Cli, prefix: str, worker: Proc
) -> None:
    worker.signal(15)
    assert worker.finish(timeout=60).code == 0  # its queue stays, with no consumer
    started = time.monotonic()
    waiting = cli.start("call", f"{prefix}.echo", "n:=1", "--timeout", "30")
    line = waiting.stderr.wait_for(lambda text: b"no consumers" in text, timeout=20)
    assert time.monotonic() - started < 20
    assert line.decode().strip() == (
        f"vincent: warning: queue '{prefix}.echo' has no consumers: is a worker running?"
    )
    waiting.process.kill()

    fast = cli.run("call", f"{prefix}.echo", "n:=1", "--timeout", "30", "--fail-fast")
    assert fast.code == 3
    assert fast.stderr.strip() == (
        f"vincent: error: call to '{prefix}.echo' not sent: "
        f"queue '{prefix}.echo' has no consumers: is a worker running?"
    )
    assert time.monotonic() - started < 25
    depth = cli.run("queues", f"{prefix}.echo").lines[0]
    assert depth["messages"] in (0, 1)  # the first call's request, never the second's


def test_call_verbose_shows_request_reply_headers_and_latency(
    cli: Cli, prefix: str, worker: Proc
) -> None:
    result = cli.run("call", "-v", f"{prefix}.echo", "n:=1", "-H", "x-origin:ops")
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout) == {"n": 1}  # stdout stays the reply alone
    err = result.stderr.splitlines()
    assert err[0] == f"> call {prefix}.echo (exchange '{cli.env['VINCENT_EXCHANGE']}')"
    assert err[1].startswith("> properties {") and '"reply_to":"amq.rabbitmq.reply-to"' in err[1]
    assert err[2].startswith("> headers {") and '"x-origin":"ops"' in err[2]
    assert err[3] == '> {"n":1}'
    assert re.fullmatch(r"< reply in \d+\.\d ms", err[4])
    assert err[5].startswith("< properties {") and '"correlation_id"' in err[5]
    assert err[6] == '< headers {"x-vincent-status":"ok"}'

    only_meta = cli.run("call", "--print", "hm", f"{prefix}.echo", "n:=1")
    assert only_meta.code == 0
    assert only_meta.stdout == b""
    assert [line[:2] for line in only_meta.stderr.splitlines()] == ["< "] * 3


def test_send_usage_errors_are_one_line_in_vincent_words(offline_cli: Cli) -> None:
    cases = {
        ("cast", "k", "--ttl", "0"): "--ttl must be more than 0, not 0",
        ("cast", "k", "--ttl", "soon"): "--ttl takes a number of seconds, not 'soon'",
        ("cast", "k", "--count", "0"): "--count must be at least 1, not 0",
        ("cast", "k", "--timeout", "3"): "vincent cast has no option --timeout "
        "(only vincent call has it)",
        ("cast", "k", "--tll", "3"): "No such option: --tll; did you mean --ttl? "
        "(see 'vincent cast --help')",
        ("call", "k", "-t"): "-t needs a value (SECONDS)",
    }
    for argv, message in cases.items():
        result = offline_cli.run(*argv)
        assert result.code == 2, argv
        assert result.stderr == f"vincent: error: {message}\n", argv


def test_the_async_path_answers_alike(cli: Cli, prefix: str, worker: Proc) -> None:
    """Several URLs (as amqps://) take the async client: same output, same exit codes."""
    url = cli.env["VINCENT_BROKER_URL"]
    cli.env["VINCENT_BROKER_URL"] = f"{url},{url}"
    call = cli.run("call", "-v", f"{prefix}.echo", "n:=1", PYTHONPROFILEIMPORTTIME="1")
    assert call.code == 0, without_import_log(call.stderr)
    assert "asyncio" in heavy_imports(call.stderr)  # the other path, indeed
    assert orjson.loads(call.stdout) == {"n": 1}
    err = without_import_log(call.stderr).splitlines()
    assert err[-1] == '< headers {"x-vincent-status":"ok"}'
    assert re.fullmatch(r"< reply in \d+\.\d ms", err[-3])
    cast = cli.run("cast", f"{prefix}.echo", "n:=2", "-H", "x-a:b", "--ttl", "5")
    assert cast.code == 0, cast.stderr
    assert cast.lines[0]["key"] == f"{prefix}.echo"
    nobody = cli.run("call", f"{prefix}.nobody", "--timeout", "5")
    assert nobody.code == 4
    assert "nothing is bound" in nobody.stderr
