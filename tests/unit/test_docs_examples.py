"""The examples in docs/api.md are programs that work.

Convention: every ```python block in docs/api.md must compile. A block whose fence is
preceded by the line ``<!-- test: run -->`` (blank lines in between allowed) is a
complete program that needs no broker but ``memory://``: it runs in a fresh interpreter
with ``VINCENT_BROKER_URL=memory://`` and must exit 0. Blocks that need RabbitMQ or run
until a signal (``app.run()``) carry no mark and are only compiled.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import vincent_core
from vincent_core import Vincent

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
RUN_MARK = "<!-- test: run -->"
RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (1-based line of its first code line)."""

    line: int
    source: str
    run: bool

    @property
    def name(self) -> str:
        return f"api.md:{self.line}"


def python_blocks(text: str) -> list[Block]:
    """Every ```python block of a Markdown text, with its run mark."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```python":
            index += 1
            continue
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        run = before >= 0 and lines[before].strip() == RUN_MARK
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"api.md:{index + 1}: unclosed ```python block")
        source = "\n".join(lines[index + 1 : end]) + "\n"
        blocks.append(Block(index + 2, source, run))
        index = end + 1
    return blocks


TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = python_blocks(TEXT)
RUNNABLE = [block for block in BLOCKS if block.run]
MEMORY_BROKER = importlib.util.find_spec("vincent_core.transport.memory") is not None


def test_the_parser_finds_blocks_and_marks() -> None:
    text = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            RUN_MARK,
            "",
            "```python",
            "b = 2",
            "```",
            "```text",
            "not python",
            "```",
        ]
    )
    assert python_blocks(text) == [Block(2, "a = 1\n", False), Block(7, "b = 2\n", True)]


def test_the_api_page_has_runnable_examples() -> None:
    assert len(BLOCKS) >= 10
    assert len(RUNNABLE) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.name)
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.source, block.name, "exec")


@pytest.mark.skipif(not MEMORY_BROKER, reason="memory:// broker not available yet")
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.name)
def test_runnable_examples_run_on_the_memory_broker(block: Block, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(block.source, encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("AMQP_URL", "VINCENT_EXCHANGE", "VINCENT_BROKER_URL")
    }
    env["VINCENT_BROKER_URL"] = "memory://"
    result = subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{block.name} failed:\n{result.stdout}\n{result.stderr}"


def test_every_public_name_is_documented() -> None:
    missing = [name for name in vincent_core.__all__ if f"`{name}`" not in TEXT]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_every_listen_option_is_documented() -> None:
    options = [name for name in inspect.signature(Vincent.listen).parameters if name != "self"]
    missing = [name for name in options if f"| `{name}` |" not in TEXT]
    assert not missing, f"docs/api.md's listen table lacks {missing}"
