"""The command lines of ``vincent cast`` and ``vincent call``, parsed in one place.

A cast in a shell loop is a process per message, so these two commands are parsed
here, without typer (whose import, with pydantic, costs more than the publish), and
run on the one-shot path (:mod:`vincent_cli.commands.send`). typer declares the same
options for ``--help`` and the shell completions only; a unit test keeps the two in
step. Global options (``--broker``, ``--exchange``, ``--context``, ``--output``) are
accepted before or after the command, as kubectl and httpie accept their flags.

Every mistake raises :class:`~vincent_cli.exit_codes.CommandError` (exit 2) with a
one-line message in vincent's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vincent_cli.exit_codes import CommandError

__all__ = [
    "COMMANDS",
    "GLOBAL_OPTIONS",
    "PRINT_LETTERS",
    "SEND_OPTIONS",
    "OptionSpec",
    "SendLine",
    "hoist_global_options",
    "parse_send",
]

COMMANDS = ("cast", "call")
#: ``--print`` letters, as httpie has them: request headers/body, reply headers/body, meta
PRINT_LETTERS = {
    "H": "the request's properties and headers",
    "B": "the request's body",
    "h": "the reply's properties and headers",
    "b": "the reply's body",
    "m": "the latency",
}
_OUTPUT_MODES = ("json", "pretty", "raw")


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option: its spellings, where its value goes, which commands have it."""

    names: tuple[str, ...]
    dest: str
    metavar: str = ""  # empty: a flag
    commands: tuple[str, ...] = COMMANDS
    repeat: bool = False


GLOBAL_OPTIONS = (
    OptionSpec(("--broker", "-b"), "broker", "URL"),
    OptionSpec(("--exchange",), "exchange", "NAME"),
    OptionSpec(("--context",), "context", "NAME"),
    OptionSpec(("--output",), "output", "MODE"),
)
SEND_OPTIONS = (
    OptionSpec(("--ttl",), "ttl", "SECONDS"),
    OptionSpec(("--header", "-H"), "headers", "NAME:VALUE", repeat=True),
    OptionSpec(("--dry-run",), "dry_run"),
    OptionSpec(("--binary",), "binary"),
    OptionSpec(("--count", "-n"), "count", "N", ("cast",)),
    OptionSpec(("--rate",), "rate", "N", ("cast",)),
    OptionSpec(("--timeout", "-t"), "timeout", "SECONDS", ("call",)),
    OptionSpec(("--verbose", "-v"), "verbose", "", ("call",)),
    OptionSpec(("--print", "-p"), "print", "WHAT", ("call",)),
    OptionSpec(("--fail-fast",), "fail_fast", "", ("call",)),
)
_BY_NAME = {name: spec for spec in (*GLOBAL_OPTIONS, *SEND_OPTIONS) for name in spec.names}
_GLOBAL_NAMES = {name for spec in GLOBAL_OPTIONS for name in spec.names}


@dataclass
class SendLine:
    """A parsed ``cast`` or ``call`` command line."""

    command: str
    key: str = ""
    arguments: list[str] = field(default_factory=list)
    broker: str | None = None
    exchange: str | None = None
    context: str | None = None
    output: str | None = None
    ttl: float | None = None
    headers: list[str] = field(default_factory=list)
    dry_run: bool = False
    binary: bool = False
    count: int = 1
    rate: float | None = None
    timeout: float = 10.0
    print: str = "b"
    fail_fast: bool = False


def _split(token: str) -> tuple[str, str | None]:
    """``--name=value`` → (name, value); ``-Hk:v`` → (``-H``, ``k:v``)."""
    if token.startswith("--"):
        name, equals, value = token.partition("=")
        return name, value if equals else None
    if len(token) > 2:
        return token[:2], token[2:]
    return token, None


def _is_option(token: str) -> bool:
    if not token.startswith("-") or token == "-":
        return False
    try:
        float(token)  # a negative number is a BODY, not an option
    except ValueError:
        return True
    return False


def _number(name: str, value: str, *, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        what = "a whole number" if integer else "a number of seconds" if "t" in name else "a number"
        raise CommandError(f"{name} takes {what}, not {value!r}") from None
    if integer and number < 1:
        raise CommandError(f"{name} must be at least 1, not {value}")
    if not integer and not number > 0:
        raise CommandError(f"{name} must be more than 0, not {value}")
    return number


def _unknown(name: str, command: str) -> CommandError:
    spec = _BY_NAME.get(name)
    if spec is not None:
        other = " and ".join(f"vincent {c}" for c in spec.commands)
        return CommandError(f"vincent {command} has no option {name} (only {other} has it)")
    import difflib

    names = [n for n, s in _BY_NAME.items() if command in s.commands and n.startswith("--")]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return CommandError(f"No such option: {name}{hint} (see 'vincent {command} --help')")


def _store(line: SendLine, spec: OptionSpec, name: str, value: str | None) -> None:
    dest = spec.dest
    if dest in ("broker", "exchange", "context", "output"):
        if dest == "output" and (value or "").lower() not in _OUTPUT_MODES:
            raise CommandError(f"--output is one of {', '.join(_OUTPUT_MODES)}, not {value!r}")
        setattr(line, dest, value.lower() if dest == "output" and value else value)
    elif dest == "headers":
        line.headers.append(value or "")
    elif dest in ("ttl", "timeout", "rate"):
        setattr(line, dest, _number(name, value or ""))
    elif dest == "count":
        line.count = int(_number(name, value or "", integer=True))
    elif dest == "verbose":
        line.print = "HBhbm"
    elif dest == "print":
        letters = value or ""
        wrong = sorted(set(letters) - set(PRINT_LETTERS)) or ([] if letters else ["nothing"])
        if wrong:
            known = ", ".join(f"{k} {v}" for k, v in PRINT_LETTERS.items())
            raise CommandError(f"--print takes letters among {known}; not {''.join(wrong)!r}")
        line.print = letters
    else:
        setattr(line, dest, True)


def parse_send(argv: Sequence[str]) -> SendLine | None:
    """The ``cast``/``call`` command line in ``argv`` (the arguments after ``vincent``),
    or ``None`` when it is another command, or asks for help or the version (typer
    answers those)."""
    index = 0
    line: SendLine | None = None
    pending: list[tuple[OptionSpec, str, str | None]] = []
    positional: list[str] = []
    while index < len(argv):
        token = argv[index]
        index += 1
        if line is not None and token == "--":
            positional += argv[index:]
            break
        if _is_option(token):
            if token in ("-h", "--help", "--version"):
                return None
            name, value = _split(token)
            spec = _BY_NAME.get(name)
            if spec is None or (line is None and name not in _GLOBAL_NAMES):
                if line is None:
                    return None  # typer reports what is wrong before the command
                raise _unknown(name, line.command)
            if spec.metavar and value is None:
                if index >= len(argv):
                    raise CommandError(f"{name} needs a value ({spec.metavar})")
                value = argv[index]
                index += 1
            elif not spec.metavar and value is not None:
                raise CommandError(f"{name} takes no value")
            pending.append((spec, name, value))
            continue
        if line is None:
            if token not in COMMANDS:
                return None
            line = SendLine(token)
            continue
        positional.append(token)
    if line is None:
        return None
    for spec, name, value in pending:
        if line.command not in spec.commands and name not in _GLOBAL_NAMES:
            raise _unknown(name, line.command)
        _store(line, spec, name, value)
    if not positional:
        raise CommandError(f"Missing argument 'KEY' (see 'vincent {line.command} --help')")
    line.key, line.arguments = positional[0], positional[1:]
    if line.rate is not None and line.count == 1:
        raise CommandError("--rate paces --count N messages: give --count too")
    return line


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """``argv`` with the global options found after the command moved before it, so
    ``vincent queues --broker URL`` means ``vincent --broker URL queues``."""
    before: list[str] = []
    index = 0
    while index < len(argv) and _is_option(argv[index]):
        name, value = _split(argv[index])
        takes = name in _GLOBAL_NAMES and value is None
        before += argv[index : index + 1 + takes]
        index += 1 + takes
    hoisted: list[str] = []
    rest: list[str] = []
    while index < len(argv):
        token = argv[index]
        if token == "--":
            rest += argv[index:]
            break
        name, value = _split(token) if token.startswith("--") else (token, None)
        if name in _GLOBAL_NAMES and (value is not None or index + 1 < len(argv)):
            hoisted += [token] if value is not None else [token, argv[index + 1]]
            index += 1 if value is not None else 2
            continue
        rest.append(token)
        index += 1
    return [*before, *hoisted, *rest]
