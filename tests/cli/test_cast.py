"""`vincent cast`: --count, --rate, the progress bar on a terminal, --dry-run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from tests.cli.helpers import Cli

pytestmark = pytest.mark.rabbitmq


def test_count_sends_that_many_each_confirmed(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("load"), "--count", "150", "--timeout", "60")
    result = cli.run("cast", ns("load"), "n:=1", "--count", "150")
    assert result.code == 0, result.stderr
    assert len(result.lines) == 150
    assert len({line["message_id"] for line in result.lines}) == 150
    assert len(tap.finish().lines) == 150


def test_rate_paces_the_casts(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("paced"), "--count", "5", "--timeout", "60")
    assert cli.run("cast", ns("paced"), "--count", "5", "--rate", "10").code == 0
    seen = [dt.datetime.fromisoformat(line["ts"]) for line in tap.finish().lines]
    assert (seen[-1] - seen[0]).total_seconds() == pytest.approx(0.4, abs=0.2)


def test_progress_bar_only_on_a_terminal(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("bar"), "--count", "32", "--timeout", "60")
    result = cli.in_terminal("cast", ns("bar"), "--count", "30").finish()
    assert result.code == 0
    assert b"30/30" in result.stdout
    assert b"message_id" not in result.stdout
    piped = cli.run("cast", ns("bar"), "--count", "2")
    assert b"2/2" not in piped.stdout and piped.stderr == ""
    assert len(tap.finish().lines) == 32


def test_single_cast_on_a_terminal_confirms_in_words(cli: Cli, ns: Callable[..., str]) -> None:
    tap = cli.listen(ns("one"), "--count", "1", "--timeout", "60")
    result = cli.in_terminal("cast", ns("one"), "a=1", NO_COLOR="1").finish()
    assert result.code == 0
    assert f"cast {ns('one')}: confirmed (id ".encode() in result.stdout
    tap.finish()


def test_dry_run_output_is_a_replayable_record(cli: Cli, ns: Callable[..., str]) -> None:
    result = cli.run("cast", "--dry-run", ns("k"), '{"a": 1}', "b:=2", "--ttl", "1.5", "-H", "h:v")
    assert result.code == 0
    (record,) = result.lines
    assert record["body"] == {"a": 1, "b": 2}
    assert record["properties"]["expiration"] == "1500"
    assert record["properties"]["delivery_mode"] == 2
    assert record["headers"]["h"] == "v"
    assert "x-vincent-deadline" in record["headers"]
