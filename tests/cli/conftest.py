"""CLI tests run the real ``vincent`` executable against the private RabbitMQ node."""

from collections.abc import Iterator

import pytest

from tests.cli.helpers import cli, offline_cli, prefix, worker
from tests.fixtures.rabbit import RabbitNode

__all__ = ["cli", "mgmt_node", "offline_cli", "prefix", "worker"]


@pytest.fixture(scope="session")
def mgmt_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A node with the management plugin (on a free port) for the commands that use its
    API (`services`, `trace --enable`, key completion); tracing is on for its default
    vhost (`rabbitmqctl trace_on`)."""
    rabbit = RabbitNode(tmp_path_factory.mktemp("rabbit-mgmt"), management=True)
    try:
        rabbit.start()
        rabbit.rabbitmqctl("trace_on")
        yield rabbit
    finally:
        rabbit.stop()
