"""Where each setting comes from: flags > --context > env > file context > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from vincent_cli.exit_codes import CommandError
from vincent_cli.settings import DEFAULT_URL, Flags, find_config, resolve

PYPROJECT = """
[project]
name = "someapp"

[tool.vincent]
url = "amqp://file:secret@file-host/"
exchange = "file-exchange"
dead_letter_queue = "app.dead"

[tool.vincent.contexts.prod]
url = "amqps://prod:hunter2@prod-host/prod"
exchange = "prod-exchange"
ca = "certs/ca.pem"
cert = "certs/client.pem"
key = "/abs/client.key"

[tool.vincent.contexts.staging]
url = "amqp://staging-host/"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    inner = tmp_path / "src" / "pkg"
    inner.mkdir(parents=True)
    return inner


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = resolve(Flags(), {}, tmp_path)
    assert settings.url == DEFAULT_URL
    assert settings.exchange == "vincent"
    assert settings.dead_letter_queue == "vincent.dead"
    assert settings.sources == {}
    assert settings.masked_url == "amqp://guest:***@localhost:5672/"


def test_nearest_pyproject_is_found_from_a_subdirectory(project: Path) -> None:
    settings = resolve(Flags(), {}, project)
    assert settings.url == "amqp://file:secret@file-host/"
    assert settings.exchange == "file-exchange"
    assert settings.dead_letter_queue == "app.dead"
    assert settings.sources["url"].startswith("[tool.vincent] in ")


def test_pyproject_without_a_vincent_table_is_skipped(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert resolve(Flags(), {}, project).exchange == "file-exchange"


def test_vincent_toml_wins_in_the_same_directory(project: Path) -> None:
    (project.parent.parent / "vincent.toml").write_text('exchange = "from-vincent-toml"\n')
    settings = resolve(Flags(), {}, project)
    assert settings.exchange == "from-vincent-toml"
    assert settings.sources["exchange"].startswith("vincent.toml in ")


def test_environment_beats_the_file(project: Path) -> None:
    env = {"AMQP_URL": "amqp://amqp-url/", "VINCENT_EXCHANGE": "env-exchange"}
    settings = resolve(Flags(), env, project)
    assert (settings.url, settings.sources["url"]) == ("amqp://amqp-url/", "env AMQP_URL")
    assert settings.exchange == "env-exchange"
    env["VINCENT_BROKER_URL"] = "amqp://vincent-url/"
    assert resolve(Flags(), env, project).url == "amqp://vincent-url/"


def test_flags_beat_everything(project: Path) -> None:
    env = {"VINCENT_BROKER_URL": "amqp://env/", "VINCENT_EXCHANGE": "env"}
    settings = resolve(Flags(broker="amqp://flag/", exchange="flag", context="prod"), env, project)
    assert settings.url == "amqp://flag/"
    assert settings.exchange == "flag"
    assert settings.sources["url"] == "flag --broker"


def test_context_flag_beats_environment_and_adds_tls_files(project: Path) -> None:
    env = {"VINCENT_BROKER_URL": "amqp://env/"}
    settings = resolve(Flags(context="prod"), env, project)
    root = project.parent.parent
    assert settings.url.startswith("amqps://prod:hunter2@prod-host/prod?")
    assert f"cafile={root / 'certs' / 'ca.pem'}".replace("/", "%2F") in settings.url
    assert "keyfile=%2Fabs%2Fclient.key" in settings.url
    assert settings.exchange == "prod-exchange"
    assert settings.context == "prod"
    assert settings.sources["context"] == "flag --context"
    assert settings.sources["url"].startswith("[tool.vincent.contexts.prod] in ")


def test_tls_files_are_ignored_for_plain_amqp(project: Path) -> None:
    settings = resolve(Flags(context="prod", broker="amqp://plain/"), {}, project)
    assert settings.url == "amqp://plain/"


def test_context_from_the_environment_ranks_below_env_values(project: Path) -> None:
    env = {"VINCENT_CONTEXT": "staging", "VINCENT_EXCHANGE": "env"}
    settings = resolve(Flags(), env, project)
    assert settings.url == "amqp://staging-host/"
    assert settings.exchange == "env"
    assert settings.sources["context"] == "env VINCENT_CONTEXT"


def test_unknown_context_lists_the_known_ones(project: Path) -> None:
    with pytest.raises(CommandError, match=r"no context 'qa' .*known contexts: prod, staging"):
        resolve(Flags(context="qa"), {}, project)


def test_context_without_any_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no context 'prod'"):
        resolve(Flags(context="prod"), {}, tmp_path)


def test_typos_in_the_file_are_reported(tmp_path: Path) -> None:
    (tmp_path / "vincent.toml").write_text('brokr = "amqp://x/"\n')
    with pytest.raises(CommandError, match=r"unknown key 'brokr' in vincent\.toml"):
        resolve(Flags(), {}, tmp_path)


def test_broken_toml_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "vincent.toml").write_text("url = \n")
    with pytest.raises(CommandError, match="cannot read configuration"):
        find_config(tmp_path)


def test_rows_mask_the_password(project: Path) -> None:
    settings = resolve(Flags(context="prod"), {}, project)
    rows = {name: (value, source) for name, value, source in settings.rows()}
    assert "hunter2" not in str(rows)
    assert rows["url"][0].startswith("amqps://prod:***@prod-host/prod")
    assert rows["context"] == ("prod", "flag --context")
    assert rows["ca"][0].endswith("certs/ca.pem")
