"""The broker the benchmark talks to: its own private RabbitMQ node, or a given URL."""

from __future__ import annotations

import contextlib
import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["NODES", "REPO", "private_node"]

REPO = Path(__file__).resolve().parent.parent
RABBITNODE = REPO / "tools" / "rabbitnode.py"
#: the private node while it runs (scenarios that need rabbitmqctl use it; empty with --url)
NODES: list[Any] = []


def _rabbit_node_class() -> Any:
    """``tools/rabbitnode.py``'s ``RabbitNode`` (the test fixture's machinery)."""
    if not RABBITNODE.exists():
        raise SystemExit(
            f"{RABBITNODE.relative_to(REPO)} is missing: pass --url to use a running broker"
        )
    spec = importlib.util.spec_from_file_location("_bench_rabbitnode", RABBITNODE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RabbitNode


@contextlib.contextmanager
def private_node(url: str | None) -> Iterator[str]:
    """Yield a broker URL: ``url`` when given, else a fresh node in a temporary directory,
    stopped and removed afterwards."""
    if url:
        yield url
        return
    node_class = _rabbit_node_class()
    with tempfile.TemporaryDirectory(prefix="vincent-bench-") as base:
        node = node_class(Path(base))
        node.start()
        NODES.append(node)
        try:
            yield str(node.url)
        finally:
            NODES.remove(node)
            node.stop()
