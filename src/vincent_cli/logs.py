"""Logging for ``vincent serve``: rich on a terminal, plain lines otherwise, or JSON lines.

``--log-format json`` writes one JSON object per line on stderr, for log shippers::

    {"ts": "2026-11-28T10:12:03.123456+00:00", "level": "info", "logger": "vincent",
     "pid": 4242, "message": "serving 3 listener(s) on amqp://app:***@rmq1:5672/",
     "trace_id": "9f0c...", "trace_chain": ["file.encrypt", "file.get"]}

``trace_id`` and ``trace_chain`` are those of the message being handled when the line was
logged (see :mod:`vincent_core.wire.trace`); they are left out elsewhere. In the human
formats the trace shows as ``[chain > ... id8]`` after the level.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import sys
from typing import IO, Any

import orjson

__all__ = ["JsonFormatter", "LogFormat", "configure_logging", "resolve_format"]

_PLAIN = "%(asctime)s %(process)d %(levelname)s %(name)s%(trace)s: %(message)s"


class LogFormat(enum.StrEnum):
    """``--log-format``: ``auto`` is ``rich`` on a terminal and ``plain`` otherwise."""

    auto = "auto"
    rich = "rich"
    plain = "plain"
    json = "json"


def resolve_format(chosen: LogFormat, stream: IO[str]) -> LogFormat:
    """``auto`` made concrete for ``stream`` (so worker processes inherit one choice)."""
    if chosen is not LogFormat.auto:
        return chosen
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return LogFormat.rich if tty else LogFormat.plain


def _trace_fields(record: logging.LogRecord) -> tuple[str, str]:
    return str(getattr(record, "trace_id", "") or ""), str(getattr(record, "trace_chain", "") or "")


class _TraceText(logging.Filter):
    """Adds ``%(trace)s``: `` [a > b 1234abcd]`` while a message is handled, else empty."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace_id, chain = _trace_fields(record)
        if not trace_id:
            record.trace = ""
        else:
            record.trace = f" [{chain} {trace_id[:8]}]" if chain else f" [{trace_id[:8]}]"
        return True


class _Masked(logging.Filter):
    """Masks passwords in every record (message and traceback), whatever logger wrote
    it (a library may log a URL); with ``escape``, control characters are escaped too (a
    handler may log a key). JSON lines need no escaping: JSON escapes them itself."""

    def __init__(self, *, escape: bool) -> None:
        super().__init__()
        self.escape = escape

    def filter(self, record: logging.LogRecord) -> bool:
        import traceback

        from vincent_cli.output.terminal import terminal_text
        from vincent_core.config import mask_text

        message = mask_text(record.getMessage())
        record.msg = terminal_text(message, multiline=True) if self.escape else message
        record.args = None
        if record.exc_info:
            exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = mask_text(exc_text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        trace_id, chain = _trace_fields(record)
        if trace_id:
            document["trace_id"] = trace_id
            document["trace_chain"] = chain.split(" > ") if chain else []
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exception"] = record.exc_text
        return orjson.dumps(document, default=str).decode()


def configure_logging(level: str, chosen: LogFormat, stream: IO[str] | None = None) -> LogFormat:
    """Install one handler on the root logger for ``serve``; returns the concrete format."""
    from vincent_core.wire.trace import TraceLogFilter

    out = sys.stderr if stream is None else stream
    concrete = resolve_format(chosen, out)
    handler: logging.Handler
    if concrete is LogFormat.rich:
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(file=out), show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(process)d %(name)s%(trace)s: %(message)s"))
    else:
        handler = logging.StreamHandler(out)
        if concrete is LogFormat.json:
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(logging.Formatter(_PLAIN))
    # Handler-level filters see records from every logger (logger-level ones would not).
    handler.addFilter(TraceLogFilter())
    handler.addFilter(_TraceText())
    handler.addFilter(_Masked(escape=concrete is not LogFormat.json))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return concrete
