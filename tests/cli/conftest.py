"""CLI tests run the real ``vincent`` executable against the private RabbitMQ node."""

from tests.cli.helpers import cli, offline_cli, prefix, worker

__all__ = ["cli", "offline_cli", "prefix", "worker"]
