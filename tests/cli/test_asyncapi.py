"""`vincent asyncapi`: the document, checked by the official AsyncAPI parser
(``@asyncapi/parser`` from npm, run with node; installed by tools/asyncapi_parser.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.helpers import ROOT, Cli

sys.path.insert(0, str(ROOT / "tools"))
from asyncapi_parser import ERROR, WARNING, ParserUnavailable, ensure_parser, validate


@pytest.fixture(scope="module")
def parser() -> Iterator[Path]:
    try:
        yield ensure_parser()
    except ParserUnavailable as exc:
        pytest.skip(f"the AsyncAPI parser cannot be installed here: {exc}")


@pytest.fixture
def cli(offline_cli: Cli) -> Cli:
    """No broker needed; the apps' own URL and exchange stand (nothing overrides them)."""
    offline_cli.cwd = ROOT
    for name in ("VINCENT_BROKER_URL", "VINCENT_EXCHANGE"):
        offline_cli.env.pop(name, None)
    return offline_cli


def _problems(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in result["diagnostics"] if d["severity"] in (ERROR, WARNING)]


@pytest.mark.parametrize("target", ["examples.files:app", "tests.cli.apps.features:app"])
@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_the_document_validates_with_the_official_parser(
    cli: Cli, parser: Path, tmp_path: Path, target: str, suffix: str
) -> None:
    path = tmp_path / f"asyncapi.{suffix}"
    result = cli.run("asyncapi", target, "-o", str(path))
    assert result.code == 0, result.stderr
    assert result.stdout == b""
    parsed = validate(path, parser)
    assert parsed["valid"], parsed
    assert _problems(parsed) == []


def test_yaml_and_json_say_the_same(cli: Cli) -> None:
    as_yaml = cli.run("asyncapi", "tests.cli.apps.features:app")
    as_json = cli.run("asyncapi", "tests.cli.apps.features:app", "--format", "json")
    assert as_yaml.code == as_json.code == 0
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)


def test_what_the_features_document_says(cli: Cli) -> None:
    result = cli.run("asyncapi", "tests.cli.apps.features:app", "--format", "json")
    document = json.loads(result.stdout)
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == "2.1.0"  # the module's __version__
    assert "s3cret" not in result.stdout.decode()
    assert document["servers"]["broker"]["host"] == "rabbit.example:5671"
    assert document["servers"]["broker"]["pathname"] == "/prod"
    channels, operations = document["channels"], document["operations"]
    submit = channels["jobs.submit"]
    assert submit["address"] == "jobs.submit"
    assert submit["bindings"]["amqp"]["exchange"]["name"] == "features"
    assert submit["x-vincent-queues"][0]["name"] == "jobs.submit.queue"
    # A call handler has a reply; a cast-only one (-> None) has none.
    submitting = operations["receive.jobs.submit"]
    assert submitting["summary"] == "Accept a job."
    assert submitting["description"] == "The job is queued and its owner told when it starts."
    assert submitting["reply"]["channel"] == {"$ref": "#/channels/jobs.submit.reply"}
    assert "reply" not in operations["receive.audit.hash"]
    assert "reply" not in operations["receive.jobs.cleanup"]
    assert operations["receive.jobs.star.done"]["x-vincent-route-to"] == "host"
    # Two listeners on one key: one channel, two operations.
    assert len(channels["legacy.echo"]["messages"]) == 2
    assert {"receive.legacy.echo", "receive.legacy.echo_2"} <= set(operations)
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]
    assert messages["jobs.submit.request"]["payload"] == {"$ref": "#/components/schemas/Job"}
    assert schemas["Job"]["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert messages["images.resize.reply"]["contentType"] == "application/octet-stream"
    assert messages["legacy.echo.request"]["payload"]["type"] == "object"  # untyped: open
    assert messages["jobs.owner.reply"]["payload"] == {"$ref": "#/components/schemas/Owner"}


def test_overrides_and_bad_input(cli: Cli, tmp_path: Path) -> None:
    result = cli.run(
        "--broker", "amqp://u:pw@other:5672/", "--exchange", "ex",
        "asyncapi", "examples.files:app", "--format", "json", "--title", "Files",
        "--app-version", "1.0",
    )  # fmt: skip
    document = json.loads(result.stdout)
    assert document["info"] == {**document["info"], "title": "Files", "version": "1.0"}
    assert document["servers"]["broker"]["host"] == "other:5672"
    assert document["channels"]["file.get"]["bindings"]["amqp"]["exchange"]["name"] == "ex"
    missing = cli.run("asyncapi", "no_such_module:app")
    assert missing.code == 2
    assert missing.stderr.count("\n") == 1
    unwritable = cli.run("asyncapi", "examples.files:app", "-o", str(tmp_path / "no" / "x.yaml"))
    assert unwritable.code == 2
    assert "cannot write" in unwritable.stderr
