"""Pretty on a terminal, exact in a pipe; NO_COLOR; --output."""

from __future__ import annotations

import io
from typing import Any

from vincent_cli.output.emit import Output, OutputMode, human_size


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Pipe(io.TextIOWrapper):
    """A text stream over bytes, like sys.stdout on a pipe."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)

    def data(self) -> bytes:
        self.flush()
        raw: Any = self.buffer
        return bytes(raw.getvalue())


def make(mode: OutputMode | None = None, *, tty: bool, env: dict[str, str] | None = None) -> Output:
    stdout: Any = FakeTerminal() if tty else Pipe()
    output = Output.for_streams(mode, stdout=stdout, stderr=io.StringIO(), environ=env or {})
    output.width = 80
    return output


def test_pipe_gets_one_compact_line_per_value() -> None:
    output = make(tty=False)
    output.value({"a": [1, 2], "é": "ü"})
    output.value("text")
    assert output.stdout.data() == '{"a":[1,2],"é":"ü"}\n"text"\n'.encode()  # type: ignore[attr-defined]


def test_terminal_gets_indented_coloured_json() -> None:
    output = make(tty=True)
    output.value({"a": 1})
    text = output.stdout.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" in text
    assert '"a"' in text and "\n" in text.strip()


def test_no_color_on_a_terminal() -> None:
    output = make(tty=True, env={"NO_COLOR": "1"})
    output.value({"a": 1})
    assert output.stdout.getvalue() == '{\n  "a": 1\n}\n'  # type: ignore[attr-defined]


def test_output_json_on_a_terminal_is_compact() -> None:
    output = make(OutputMode.json, tty=True)
    output.value({"a": 1})
    assert output.stdout.getvalue() == '{"a":1}\n'  # type: ignore[attr-defined]


def test_output_pretty_in_a_pipe_is_indented_without_colour() -> None:
    output = make(OutputMode.pretty, tty=False)
    output.value({"a": 1})
    assert output.stdout.data() == b'{\n  "a": 1\n}\n'  # type: ignore[attr-defined]


def test_output_raw_prints_strings_bare() -> None:
    output = make(OutputMode.raw, tty=False)
    output.value("line")
    output.value({"a": 1})
    assert output.stdout.data() == b'line\n{"a":1}\n'  # type: ignore[attr-defined]


def test_bytes_pass_through_a_pipe_exactly() -> None:
    output = make(tty=False)
    output.value(b"\x00\xff\n")
    assert output.stdout.data() == b"\x00\xff\n"  # type: ignore[attr-defined]


def test_bytes_never_reach_a_terminal() -> None:
    for mode in (None, OutputMode.raw, OutputMode.json):
        output = make(mode, tty=True, env={"NO_COLOR": "1"})
        output.value(b"\x00" * 2048)
        text = output.stdout.getvalue()  # type: ignore[attr-defined]
        assert "\x00" not in text
        assert "2.0 KiB" in text and "application/octet-stream" in text


def test_rows_table_on_a_terminal_json_lines_in_a_pipe() -> None:
    output = make(tty=False)
    output.rows(("name", "messages"), [("q1", 3), ("q2", 0)])
    assert output.stdout.data() == (  # type: ignore[attr-defined]
        b'{"name":"q1","messages":3}\n{"name":"q2","messages":0}\n'
    )
    output = make(tty=True, env={"NO_COLOR": "1"})
    output.rows(("name", "messages"), [("q1", 3)])
    text = output.stdout.getvalue()  # type: ignore[attr-defined]
    assert "name" in text and "q1" in text and "{" not in text


def test_errors_are_plain_when_stderr_is_not_a_terminal() -> None:
    output = make(tty=False)
    output.error("cannot connect to [x]")
    assert output.stderr.getvalue() == "vincent: error: cannot connect to [x]\n"  # type: ignore[attr-defined]


def test_progress_only_on_a_terminal() -> None:
    assert not make(tty=False).progress


def test_human_size() -> None:
    assert human_size(12) == "12 bytes"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024**3) == "5.0 GiB"
