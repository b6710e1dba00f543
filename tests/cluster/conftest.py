"""A private 3-node RabbitMQ cluster (tools/rabbitcluster.py), only with ``--run-cluster``;
the same on simulated hosts in network namespaces (tools/rabbitnetns.py), as root."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TOOLS = str(Path(__file__).resolve().parents[2] / "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from rabbitcluster import RabbitCluster  # noqa: E402
from rabbitnetns import NetnsCluster  # noqa: E402


@pytest.fixture(autouse=True)
def _only_with_run_cluster(request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("--run-cluster"):
        pytest.skip("needs --run-cluster (make test-cluster): starts a 3-node RabbitMQ cluster")


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    """Three joined nodes for this test only (tests stop nodes)."""
    with RabbitCluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
def netns_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetnsCluster]:
    """Three joined nodes on hosts rabbit1-3, and hosts client, w1, w2, w3 beside them."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and `ip` (iproute2) for network namespaces")
    hosts = ("client", "w1", "w2", "w3")
    with NetnsCluster(tmp_path_factory.mktemp("netns"), hosts=hosts) as running:
        yield running
