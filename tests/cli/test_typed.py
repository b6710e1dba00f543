"""`vincent call` to a typed handler: a valid body is answered, an invalid one lists its
fields on stderr, one per line, and exits 1."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest

from tests.cli.helpers import Cli, Proc

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def prefix(ns: Callable[..., str]) -> str:
    return ns()


@pytest.fixture
def worker(cli: Cli, prefix: str) -> Iterator[Proc]:
    proc = cli.serve("typed", CLI_PREFIX=prefix)
    yield proc
    proc.signal(15)
    assert proc.finish(timeout=60).code == 0


def test_a_valid_call_prints_the_reply(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.encrypt", "file=a.txt", "key_id:=7")
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout) == {"file": "a.txt", "size": 7}


def test_an_invalid_call_lists_the_fields_and_exits_1(cli: Cli, prefix: str, worker: Proc) -> None:
    result = cli.run("call", f"{prefix}.encrypt", "file:=3", "key_id=many")
    assert result.code == 1
    assert result.stdout == b""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"vincent: error: vincent.invalid: the body for '{prefix}.encrypt' does not match "
        "EncryptRequest (2 errors)"
    )
    assert lines[1:] == [
        "  file: Input should be a valid string",
        "  key_id: Input should be a valid integer, unable to parse string as an integer",
    ]
