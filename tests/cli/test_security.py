"""Security rules of the CLI (CONTRACT 6.3): where credentials go, what is never printed.

Each test runs the real ``vincent`` in a subprocess, as an operator would.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Cli


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        if self.headers.get("Authorization") == _basic("bad", "badpw"):
            self.send_error(401)
            return
        body = json.dumps([{"name": "from-the-stranger", "messages_ready": 0}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stranger() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP server on 127.0.0.1 that records every request's headers."""
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Capture,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_parent_directorys_config_cannot_redirect_the_brokers_credentials(
    cli: Cli, tmp_path: Path, stranger: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = stranger
    (tmp_path / "pyproject.toml").write_text(f'[tool.vincent]\napi = "{url}"\n')
    project = tmp_path / "clone"
    project.mkdir()
    cli.cwd = project
    result = cli.run("queues", VINCENT_API_USER="ops", VINCENT_API_PASSWORD="opsecret")
    assert result.code == 0, result.stderr
    assert [h.get("authorization") for h in seen if h.get("authorization")] == []
    assert "parent directory" in result.stderr
    assert "guest" not in result.stderr and "opsecret" not in result.stderr


def test_the_brokers_credentials_go_only_to_the_brokers_host(
    cli: Cli, stranger: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = stranger
    # Same port, another name for the machine: not the broker's host as the URL says.
    elsewhere = url.replace("127.0.0.1", "localhost")
    refused = cli.run("queues", "--api", elsewhere)
    assert refused.code == 0, refused.stderr
    assert seen == []
    assert "not on the broker's host" in refused.stderr
    assert "VINCENT_API_USER" in refused.stderr

    own = cli.run("queues", "--api", elsewhere, VINCENT_API_USER="ops", VINCENT_API_PASSWORD="pw")
    assert own.code == 0, own.stderr
    assert seen[-1]["authorization"] == _basic("ops", "pw")
    assert {"name": "from-the-stranger", "messages": 0, "consumers": 0} in own.lines

    same_host = cli.run("queues", "--api", url)
    assert same_host.code == 0, same_host.stderr
    assert seen[-1]["authorization"] == _basic("guest", "guest")


def test_an_api_url_with_its_own_credentials_uses_them_and_they_are_never_printed(
    cli: Cli, stranger: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = stranger
    with_user = url.replace("http://", "http://admin:api%40secret@")
    result = cli.run("queues", "--api", with_user)
    assert result.code == 0, result.stderr
    assert seen[-1]["authorization"] == _basic("admin", "api@secret")

    unreachable = cli.run("queues", "--api", "http://admin:apisecret@127.0.0.1:1")
    assert unreachable.code == 0
    assert "not usable" in unreachable.stderr
    assert "apisecret" not in unreachable.stderr


def test_refused_credentials_say_whose_they_were(
    cli: Cli, stranger: tuple[str, list[dict[str, str]]]
) -> None:
    url, _seen = stranger
    result = cli.run("queues", "--api", url, VINCENT_API_USER="bad", VINCENT_API_PASSWORD="badpw")
    assert result.code == 0, result.stderr
    assert "refused user 'bad' (from VINCENT_API_USER): HTTP 401" in result.stderr
    assert "badpw" not in result.stderr
