"""The examples in docs/api.md and docs/testing.md are programs that work.

Convention: every ```python block of those pages must compile. A block whose fence is
preceded by the line ``<!-- test: run -->`` (blank lines in between allowed) is a
complete program that needs no broker but ``memory://``: it runs in a fresh interpreter
with ``VINCENT_BROKER_URL=memory://`` and must exit 0. A block marked
``<!-- test: pytest -->`` is a complete test module: pytest runs it in a fresh
interpreter (``asyncio_mode = auto``, warnings as errors) and every test must pass.
Blocks that need RabbitMQ or run until a signal (``app.run()``) carry no mark and are
only compiled.
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

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "api.md"
RUN_MARK = "<!-- test: run -->"
PYTEST_MARK = "<!-- test: pytest -->"
MARKS = {RUN_MARK: "run", PYTEST_MARK: "pytest"}
RUN_TIMEOUT = 60.0
PYTEST_INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (1-based line of its first code line) and
    how it is tested beyond compiling (``"run"``, ``"pytest"`` or ``None``)."""

    line: int
    source: str
    mark: str | None
    page: str = "api.md"

    @property
    def run(self) -> bool:
        return self.mark == "run"

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def python_blocks(text: str, page: str = "api.md") -> list[Block]:
    """Every ```python block of a Markdown text, with its test mark."""
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
        mark = MARKS.get(lines[before].strip()) if before >= 0 else None
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{page}:{index + 1}: unclosed ```python block")
        source = "\n".join(lines[index + 1 : end]) + "\n"
        blocks.append(Block(index + 2, source, mark, page))
        index = end + 1
    return blocks


TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = python_blocks(TEXT)
RUNNABLE = [block for block in BLOCKS if block.run]
TESTING_BLOCKS = python_blocks((DOCS / "testing.md").read_text(encoding="utf-8"), "testing.md")
PYTEST_BLOCKS = [block for block in TESTING_BLOCKS if block.mark == "pytest"]
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
            PYTEST_MARK,
            "```python",
            "c = 3",
            "```",
        ]
    )
    assert python_blocks(text, "x.md") == [
        Block(2, "a = 1\n", None, "x.md"),
        Block(7, "b = 2\n", "run", "x.md"),
        Block(14, "c = 3\n", "pytest", "x.md"),
    ]


def test_the_api_page_has_runnable_examples() -> None:
    assert len(BLOCKS) >= 10
    assert len(RUNNABLE) >= 5


def test_the_testing_page_has_test_modules() -> None:
    assert len(PYTEST_BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS + TESTING_BLOCKS, ids=lambda block: block.name)
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.source, block.name, "exec")


@pytest.mark.skipif(not MEMORY_BROKER, reason="memory:// broker not available yet")
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.name)
def test_runnable_examples_run_on_the_memory_broker(block: Block, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(block.source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env=memory_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{block.name} failed:\n{result.stdout}\n{result.stderr}"


def memory_env() -> dict[str, str]:
    """The environment, with the broker settings pointing at ``memory://`` only."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("AMQP_URL", "VINCENT_EXCHANGE", "VINCENT_BROKER_URL")
    }
    env["VINCENT_BROKER_URL"] = "memory://"
    return env


@pytest.mark.parametrize("block", PYTEST_BLOCKS, ids=lambda block: block.name)
def test_test_modules_pass_under_pytest(block: Block, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (tmp_path / "test_example.py").write_text(block.source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        env=memory_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    report = f"{block.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    assert " passed" in result.stdout and "skipped" not in result.stdout, report


def test_every_public_name_is_documented() -> None:
    missing = [name for name in vincent_core.__all__ if f"`{name}`" not in TEXT]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_every_listen_option_is_documented() -> None:
    options = [name for name in inspect.signature(Vincent.listen).parameters if name != "self"]
    missing = [name for name in options if f"| `{name}` |" not in TEXT]
    assert not missing, f"docs/api.md's listen table lacks {missing}"
