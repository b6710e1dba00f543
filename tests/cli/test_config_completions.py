"""`vincent config`, contexts from a project file, and the shell completions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, Cli, bash_complete
from vincent_cli.completions import render_all

PROJECT = """
[tool.vincent]
url = "amqp://app:filepass@file-host/"
exchange = "from-file"

[tool.vincent.contexts.prod]
url = "amqps://ops:prodpass@prod-host/"
ca = "ca.pem"
"""


def test_config_shows_sources_and_masks_passwords(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    # Unset, not empty: VINCENT_EXCHANGE="" is the default exchange (contract 6.1).
    offline_cli.env.pop("VINCENT_EXCHANGE")
    rows = {row["name"]: row for row in offline_cli.run("config", VINCENT_BROKER_URL="").lines}
    assert rows["url"]["value"] == "amqp://app:***@file-host/"
    assert rows["url"]["source"] == f"[tool.vincent] in {tmp_path / 'pyproject.toml'}"
    assert rows["exchange"]["value"] == "from-file"

    result = offline_cli.run(
        "--context", "prod", "--exchange", "x", "config", VINCENT_BROKER_URL=""
    )
    rows = {row["name"]: row for row in result.lines}
    assert rows["url"]["value"].startswith("amqps://ops:***@prod-host/?cafile=")
    assert rows["exchange"] == {"name": "exchange", "value": "x", "source": "flag --exchange"}
    assert rows["context"]["value"] == "prod"
    assert "prodpass" not in result.stdout.decode() + result.stderr


def test_unknown_context_exits_2(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    result = offline_cli.run("--context", "qa", "cast", "k")
    assert result.code == 2
    assert "no context 'qa'" in result.stderr and "known contexts: prod" in result.stderr


def test_checked_in_completions_match_the_cli() -> None:
    for name, text in render_all().items():
        shipped = (ROOT / "completions" / name).read_text()
        assert shipped == text, f"completions/{name} is stale: run `make completions`"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("vincent ca", ["cast", "call"]),
        ("vincent --broker amqp://x/ li", ["listen"]),
        ("vincent --output ", ["json", "pretty", "raw"]),
        ("vincent dead re", ["replay"]),
        ("vincent call --ti", ["--timeout"]),
        ("vincent serve x:app --log-level w", ["warning"]),
    ],
)
def test_bash_completion(line: str, expected: list[str]) -> None:
    assert bash_complete(line) == expected


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion() -> None:
    script = f"source {ROOT / 'completions' / 'vincent.fish'}; complete -C'vincent ca'"
    done = subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["call", "cast"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_parses() -> None:
    subprocess.run(["zsh", "-n", str(ROOT / "completions" / "_vincent")], timeout=30, check=True)
