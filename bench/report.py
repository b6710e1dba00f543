"""The machine, the table (text and Markdown), results.json and the README's results."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.runner import BASELINE, Row

__all__ = ["machine", "markdown_table", "text_table", "update_readme"]

README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"
HEADERS = ("scenario", "variant", "metric", "better", "vincent", BASELINE, "ratio", "pika",
           "× pika", "target", "met")  # fmt: skip


def machine(rabbitmq: str) -> dict[str, Any]:
    """Where the numbers come from."""
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(total_kb / 2**20, 1),
        "kernel": platform.release(),
        "load_at_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "rabbitmq": rabbitmq,
        "vincent": version("vincent-amqp"),
        "aio-pika": version("aio-pika"),
        "aiormq": version("aiormq"),
        "pika": version("pika"),
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['date']} · {info['nproc']} CPUs ({info['cpu']}) · {info['ram_gib']} GiB RAM · "
        f"Linux {info['kernel']} · load {info['load_at_start']} at start · "
        f"Python {info['python']} · RabbitMQ {info['rabbitmq']} · "
        f"vincent {info['vincent']}, aio-pika {info['aio-pika']}, aiormq {info['aiormq']}, "
        f"pika {info['pika']}"
    )


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _times(ratio: float | None) -> str:
    return f"{ratio:.2f}×" if ratio is not None else "-"


def cells(row: Row) -> tuple[str, ...]:
    met = {True: "yes", False: "NO", None: ""}[row.met]
    baseline = number(row.baseline)
    if row.baseline_name != BASELINE:  # a scenario comparing vincent with itself
        baseline = f"{baseline} ({row.baseline_name})"
    return (row.scenario, row.variant, row.metric, row.better, number(row.vincent),
            baseline, _times(row.ratio), number(row.references.get("pika")),
            _times(row.ratio_to("pika")), row.target, met)  # fmt: skip


def text_table(rows: list[Row]) -> str:
    """Aligned columns for the terminal; numbers right-aligned."""
    table = [HEADERS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    numeric = {4, 5, 6, 7, 8}
    lines = []
    for index, line in enumerate(table):
        parts = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    align = ["---", "---", "---", "---", "---:", "---:", "---:", "---:", "---:", "---", "---"]
    lines = ["| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def update_readme(readme: Path, info: dict[str, Any], rows: list[Row], notes: list[str]) -> None:
    """Replace the README's results section (between the markers) with this run's."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    section = "\n".join(
        [
            README_START,
            "",
            f"Machine: {machine_line(info)}",
            "",
            markdown_table(rows),
            *([""] + [f"- {note}" for note in notes] if notes else []),
            "",
            README_END,
        ]
    )
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(head + section + tail)
