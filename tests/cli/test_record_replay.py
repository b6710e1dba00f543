"""`vincent record` → `vincent replay`: keys, headers and bodies byte for byte; pacing."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import signal
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import Cli
from tests.poll import wait_until

pytestmark = pytest.mark.rabbitmq


def read_lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_record_then_replay_is_byte_for_byte(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\xff binary \x80" * 10)
    traffic = tmp_path / "traffic.jsonl"
    recorder = cli.start("record", ns("#"), "-o", str(traffic), "--count", "3", "--timeout", "60")
    recorder.stderr.wait_for(lambda line: line.startswith(b"listening on"))
    assert cli.run("cast", ns("a"), '{"n": 1, "s": "é✓"}', "-H", "x-origin:ops").code == 0
    assert cli.run("cast", ns("b.c"), f"@{blob}", "--binary", "-H", "x-kind:blob").code == 0
    assert cli.run("cast", ns("a"), "list:=[1,2,3]").code == 0
    done = recorder.finish()
    assert done.code == 0, done.stderr
    assert "recorded 3 messages" in done.stderr
    recorded = read_lines(traffic)
    assert [r["key"] for r in recorded] == [ns("a"), ns("b.c"), ns("a")]

    # Replay onto other keys, and catch the copies with a tap.
    tap = cli.listen(ns("again.#"), "--count", "3", "--timeout", "60")
    replay = cli.run(
        "replay",
        str(traffic),
        "--key-map",
        f"{ns('a')}={ns('again.a')}",
        "--key-map",
        f"{ns('b.c')}={ns('again.b')}",
    )
    assert replay.code == 0, replay.stderr
    assert "replayed 3 of 3 messages" in replay.stderr
    again = tap.finish().lines
    assert [r["key"] for r in again] == [ns("again.a"), ns("again.b"), ns("again.a")]
    for before, after in zip(recorded, again, strict=True):
        assert after["headers"] == before["headers"]
        assert after["properties"] == before["properties"]
        assert after.get("body") == before.get("body")
        assert after.get("body_b64") == before.get("body_b64")
    assert base64.b64decode(again[1]["body_b64"]) == blob.read_bytes()
    assert again[0]["body"] == {"n": 1, "s": "é✓"}


def test_replay_publishes_to_the_exchange_in_effect(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    dry = cli.run("--exchange", "elsewhere", "cast", "--dry-run", ns("k"), "n:=1")
    traffic = tmp_path / "one.jsonl"
    traffic.write_bytes(dry.stdout)
    assert orjson.loads(dry.stdout)["exchange"] == "elsewhere"
    tap = cli.listen(ns("k"), "--count", "1", "--timeout", "30")
    assert cli.run("replay", str(traffic)).code == 0
    (seen,) = tap.finish().lines
    assert seen["exchange"] == cli.env["VINCENT_EXCHANGE"]
    assert seen["body"] == {"n": 1}


def test_replay_reads_stdin(cli: Cli, ns: Callable[..., str]) -> None:
    dry = cli.run("cast", "--dry-run", ns("k"), "n:=2")
    tap = cli.listen(ns("k"), "--count", "1", "--timeout", "30")
    assert cli.run("replay", "-", input=dry.stdout).code == 0
    assert tap.finish().lines[0]["body"] == {"n": 2}


def test_timing_keeps_the_recorded_spacing(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lines = []
    for n, offset in enumerate((0.0, 0.6, 1.8)):
        dry = orjson.loads(cli.run("cast", "--dry-run", ns("k"), f"n:={n}").stdout)
        dry["ts"] = (start + dt.timedelta(seconds=offset)).isoformat()
        lines.append(orjson.dumps(dry))
    traffic = tmp_path / "timed.jsonl"
    traffic.write_bytes(b"\n".join(lines) + b"\n")
    tap = cli.listen(ns("k"), "--count", "3", "--timeout", "60")
    assert cli.run("replay", str(traffic), "--timing").code == 0
    seen = tap.finish().lines
    times = [dt.datetime.fromisoformat(r["ts"]) for r in seen]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps[0] == pytest.approx(0.6, abs=0.25)
    assert gaps[1] == pytest.approx(1.2, abs=0.25)


def test_rate_paces_the_replay(cli: Cli, ns: Callable[..., str], tmp_path: Path) -> None:
    dry = cli.run("cast", "--dry-run", ns("k")).stdout
    traffic = tmp_path / "five.jsonl"
    traffic.write_bytes(dry * 5)
    tap = cli.listen(ns("k"), "--count", "5", "--timeout", "60")
    assert cli.run("replay", str(traffic), "--rate", "5").code == 0
    seen = tap.finish().lines
    first, last = (dt.datetime.fromisoformat(seen[i]["ts"]) for i in (0, -1))
    assert (last - first).total_seconds() == pytest.approx(0.8, abs=0.25)


def test_replay_of_a_bad_file_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    traffic = tmp_path / "bad.jsonl"
    traffic.write_text('{"ts": "2026-01-01T00:00:00+00:00"}\n')
    result = cli.run("replay", str(traffic))
    assert result.code == 2
    assert f"{traffic}:1: not a record: missing 'exchange'" in result.stderr
    assert cli.run("replay", str(tmp_path / "missing.jsonl")).code == 2
    assert cli.run("replay", str(traffic), "--rate", "1", "--timing").code == 2


def test_replay_without_a_route_exits_4(cli: Cli, ns: Callable[..., str], tmp_path: Path) -> None:
    traffic = tmp_path / "one.jsonl"
    traffic.write_bytes(cli.run("cast", "--dry-run", ns("nobody")).stdout)
    result = cli.run("replay", str(traffic))
    assert result.code == 4
    assert "nothing is bound" in result.stderr


def test_record_stops_on_sigterm_with_everything_written(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    traffic = tmp_path / "t.jsonl"
    recorder = cli.start("record", ns("k"), "-o", str(traffic))
    recorder.stderr.wait_for(lambda line: line.startswith(b"listening on"))
    assert cli.run("cast", ns("k"), "--count", "4").code == 0
    # Each line is flushed as it comes.
    wait_until(lambda: len(traffic.read_bytes().splitlines()) >= 4, 30, what=traffic.read_bytes)
    recorder.signal(signal.SIGTERM)
    result = recorder.finish()
    assert result.code == 0
    assert len(traffic.read_bytes().splitlines()) == 4
