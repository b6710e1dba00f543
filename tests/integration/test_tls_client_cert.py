"""Client certificates: amqps:// with certfile/keyfile and RabbitMQ's EXTERNAL mechanism
(rabbitmq_auth_mechanism_ssl), no password anywhere, on a private node with a test CA.
docs/security.md describes the same setup for a real broker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.rabbit import RabbitNode
from vincent_core import Client, Message, Vincent
from vincent_core.errors import ConnectionFailed

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

VINCENT = str(Path(sys.executable).with_name("vincent"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def external_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A node whose TLS listener demands a client certificate and offers EXTERNAL; the
    certificate's common name is a user with no password at all."""
    from rabbitnode import CLIENT_CN

    node = RabbitNode(tmp_path_factory.mktemp("rabbit-external"), external_auth=True)
    try:
        node.start()
        node.rabbitmqctl("add_user", CLIENT_CN, "unused")
        node.rabbitmqctl("clear_password", CLIENT_CN)
        node.rabbitmqctl("set_permissions", "-p", "/", CLIENT_CN, ".*", ".*", ".*")
        yield node
    finally:
        node.stop()


def _url(node: RabbitNode, *, cert: bool = True) -> str:
    files = node.tls_files
    query = f"auth=external&cafile={quote(str(files.ca))}"
    if cert:
        query += f"&certfile={quote(str(files.cert))}&keyfile={quote(str(files.key))}"
    return f"amqps://localhost:{node.tls_port}/?{query}"


async def test_a_client_certificate_logs_in_with_external_and_no_password(
    external_node: RabbitNode, exchange: str, ns
) -> None:
    url = _url(external_node)
    app = Vincent(url, exchange=exchange)

    @app.listen(ns("who"))
    async def who(msg: Message) -> object:
        return msg.body

    async with app.running(), Client(url, exchange=exchange) as client:
        assert await client.call(ns("who"), {"n": 1}) == {"n": 1}
        connections = external_node.rabbitmqctl("list_connections", "user", "auth_mechanism")
    assert "vincent-test-client\tEXTERNAL" in connections and "PLAIN" not in connections


async def test_without_the_client_certificate_the_broker_refuses(
    external_node: RabbitNode,
) -> None:
    with pytest.raises(ConnectionFailed):
        await Client(_url(external_node, cert=False)).connect()


def test_the_cli_takes_the_certificate_from_a_context(
    external_node: RabbitNode, tmp_path: Path
) -> None:
    files = external_node.tls_files
    (tmp_path / "vincent.toml").write_text(
        "[contexts.secure]\n"
        f'url = "amqps://localhost:{external_node.tls_port}/?auth=external"\n'
        f'ca = "{files.ca}"\ncert = "{files.cert}"\nkey = "{files.key}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VINCENT_", "AMQP_"))}
    done = subprocess.run(
        [VINCENT, "--context", "secure", "health"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"amqps://localhost:{external_node.tls_port}/" in done.stdout
