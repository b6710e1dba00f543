"""Which credentials go to which management API (vincent_cli.management.api_access)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vincent_cli.management import ManagementRefused, api_access
from vincent_cli.settings import Flags, resolve


def _access(tmp_path: Path, api: str | None = None, **environ: str) -> tuple[str, str, str]:
    settings = resolve(Flags(api=api), environ, tmp_path)
    access = api_access(settings)
    return access.base, access.user, access.password


def test_clear_text_api_with_a_tls_broker_only_when_given_on_the_command_line(
    tmp_path: Path,
) -> None:
    tls = "amqps://app:tlspw@rabbit.example.com/prod"
    with pytest.raises(ManagementRefused, match="clear text"):
        _access(tmp_path, VINCENT_BROKER_URL=tls, VINCENT_API_URL="http://rabbit.example.com")
    (tmp_path / "vincent.toml").write_text('api = "http://rabbit.example.com:15672"\n')
    with pytest.raises(ManagementRefused, match="clear text"):
        _access(tmp_path, VINCENT_BROKER_URL=tls)
    assert _access(tmp_path, "http://rabbit.example.com:15672", VINCENT_BROKER_URL=tls) == (
        "http://rabbit.example.com:15672",
        "app",
        "tlspw",
    )
    assert _access(tmp_path, VINCENT_BROKER_URL=tls, VINCENT_API_URL="https://rabbit.example.com")[
        1:
    ] == ("app", "tlspw")


def test_broker_credentials_only_for_the_brokers_host(tmp_path: Path) -> None:
    cluster = "amqp://app:pw1@node1:5672/,amqp://app:pw2@node2:5672/"
    assert _access(tmp_path, "http://NODE2:15672/", VINCENT_BROKER_URL=cluster)[1:] == (
        "app",
        "pw2",
    )
    with pytest.raises(ManagementRefused, match="not on the broker's host"):
        _access(tmp_path, "http://node3:15672/", VINCENT_BROKER_URL=cluster)
    own = _access(
        tmp_path,
        "http://node3:15672/",
        VINCENT_BROKER_URL=cluster,
        VINCENT_API_USER="ops",
        VINCENT_API_PASSWORD="opspw",
    )
    assert own == ("http://node3:15672", "ops", "opspw")
    assert _access(tmp_path, "http://a%40b:p%3Aw@node3:15672/x/", VINCENT_BROKER_URL=cluster) == (
        "http://node3:15672/x",
        "a@b",
        "p:w",
    )


def test_a_parent_directory_file_sends_only_its_own_credentials(tmp_path: Path) -> None:
    (tmp_path / "vincent.toml").write_text(
        'url = "amqp://shared:sharedpw@127.0.0.1/"\napi = "http://127.0.0.1:15672"\n'
    )
    below = tmp_path / "project"
    below.mkdir()
    # Its broker URL and its API: its own credentials, fine.
    assert _access(below)[1:] == ("shared", "sharedpw")
    # The user's broker URL (environment) with the file's API: refused.
    with pytest.raises(ManagementRefused, match="parent directory"):
        _access(below, VINCENT_BROKER_URL="amqp://me:mine@127.0.0.1/")
    with pytest.raises(ManagementRefused, match="parent directory"):
        _access(
            below,
            VINCENT_BROKER_URL="amqp://me:mine@127.0.0.1/",
            VINCENT_API_USER="ops",
            VINCENT_API_PASSWORD="opspw",
        )
    # The same file in the current directory is the user's own project.
    assert _access(tmp_path, VINCENT_BROKER_URL="amqp://me:mine@127.0.0.1/")[1:] == (
        "me",
        "mine",
    )


def test_a_parent_directory_file_cannot_put_its_ca_under_the_users_url(tmp_path: Path) -> None:
    (tmp_path / "vincent.toml").write_text('ca = "evil-ca.pem"\n')
    below = tmp_path / "project"
    below.mkdir()
    url = "amqps://me:mine@rabbit.example.com/"
    assert resolve(Flags(), {"VINCENT_BROKER_URL": url}, below).url == url
    here = resolve(Flags(), {"VINCENT_BROKER_URL": url}, tmp_path).url
    assert "cafile=" in here


def test_vincent_config_says_a_parent_directorys_tls_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "vincent.toml").write_text('ca = "evil-ca.pem"\n')
    below = tmp_path / "project"
    below.mkdir()
    settings = resolve(Flags(), {"VINCENT_BROKER_URL": "amqps://me:mine@h/"}, below)
    (row,) = [row for row in settings.rows() if row[0] == "ca"]
    assert row[2].endswith("(ignored: the broker URL comes from elsewhere)")
