"""What the completion scripts are made from: the CLI's commands, options and positional
arguments, read from the typer app, each with the kind of word it completes to."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "API_OPTION",
    "BOUNDED",
    "HEADER",
    "HELP_OPTION",
    "KEYS_TIMEOUT",
    "SELECTORS",
    "Argument",
    "Command",
    "Option",
    "describe_cli",
    "positions",
    "selectors",
]

HEADER = "generated from the CLI by `python -m vincent_cli.completions`; do not edit"


@dataclass(frozen=True)
class Option:
    """One option: its spellings, what its value completes to, its help line."""

    names: tuple[str, ...]
    takes_value: bool
    help: str
    choices: tuple[str, ...] = ()
    #: "file", "dir", "key" (a bound routing key) or "" (no completion for the value)
    kind: str = ""


@dataclass(frozen=True)
class Argument:
    """One positional argument and what it completes to."""

    #: "file", "dir", "key" (a bound routing key), "body" (JSON, ITEMs or @file),
    #: "choice" (one of ``choices``) or "" (nothing)
    kind: str
    #: how the help names it (KEY, BODY ITEM...), for zsh's descriptions
    name: str = ""
    choices: tuple[str, ...] = ()
    #: takes this position and every one after it
    variadic: bool = False


@dataclass
class Command:
    """A command (or the root, or a subcommand group) and what follows it."""

    name: str
    help: str
    options: list[Option] = field(default_factory=list)
    subcommands: list[Command] = field(default_factory=list)
    #: the positional arguments, in order
    arguments: list[Argument] = field(default_factory=list)

    def value_options(self) -> list[str]:
        """Every spelling of the options that take a value (their value is no argument)."""
        return [name for option in self.options if option.takes_value for name in option.names]


HELP_OPTION = Option(("-h", "--help"), False, "Show the help and exit.")
_KINDS = {"FILE": "file", "DIR": "dir", "KEY": "key", "PATTERN": "key", "BODY": "body"}
#: arguments named like keys that are something else: ``queues [PATTERN]`` globs queue names
_NOT_KEYS = {("queues", "pattern")}
#: the global options that choose the broker, exchange or configuration, and the command
#: option naming the management API: what key completion passes on to ``services --keys``
SELECTORS = ("--broker", "--exchange", "--context")
API_OPTION = "--api"
#: seconds ``services --keys`` gets at most (VINCENT_COMPLETION_TIMEOUT overrides it)
KEYS_TIMEOUT = 2


def _short(text: str | None) -> str:
    line = (text or "").strip().split("\n", 1)[0].strip()
    return line if len(line) <= 70 else line[:69].rstrip() + "…"


def _kind(metavar: str) -> str:
    words = metavar.replace("[", " ").replace("]", " ").replace(".", " ").split()
    return next((_KINDS[word] for word in words if word in _KINDS), "")


def _argument(command: str, param: object) -> Argument:
    descriptor = getattr(param, "type_descriptor")  # noqa: B009 - typer's, untyped
    metavar = getattr(param, "metavar", None) or ""
    name = metavar or str(getattr(param, "name", "")).upper()
    variadic = getattr(param, "nargs", 1) == -1
    if descriptor.is_choice:
        choices = tuple(str(getattr(c, "value", c)) for c in descriptor.choices or ())
        return Argument("choice", name, choices, variadic)
    kind = _kind(metavar)
    if kind == "key" and (command, getattr(param, "name", "")) in _NOT_KEYS:
        kind = ""
    return Argument(kind, name, (), variadic)


def _describe(name: str, command: object) -> Command:
    params = getattr(command, "params", [])
    short = getattr(command, "get_short_help_str", lambda limit: "")(200)
    result = Command(name, _short(short))
    for param in params:
        if param.param_type_name == "argument":
            result.arguments.append(_argument(name, param))
            continue
        descriptor = param.type_descriptor
        choices = tuple(str(getattr(c, "value", c)) for c in descriptor.choices or ())
        result.options.append(
            Option(
                names=tuple(sorted(param.opts + param.secondary_opts, key=len)),
                takes_value=not param.is_flag,
                help=_short(param.help),
                choices=choices if descriptor.is_choice else (),
                kind=_kind(param.metavar or ""),
            )
        )
    result.options.append(HELP_OPTION)
    for sub_name, sub in getattr(command, "commands", {}).items():
        result.subcommands.append(_describe(sub_name, sub))
    return result


def describe_cli() -> Command:
    """The CLI's commands and options, read from the typer app."""
    import typer

    from vincent_cli.main import app

    return _describe("vincent", typer.main.get_command(app))


def positions(command: Command) -> list[tuple[str, Argument | None]]:
    """(position pattern, argument) for each position: "1", "2"... and "*" for the rest
    (the variadic argument's, or None: nothing more is expected)."""
    rows: list[tuple[str, Argument | None]] = []
    for index, argument in enumerate(command.arguments, 1):
        if argument.variadic:
            rows.append(("*", argument))
            return rows
        rows.append((str(index), argument))
    rows.append(("*", None))
    return rows


def selectors(root: Command) -> list[str]:
    """Every spelling of the global options key completion passes on."""
    return [n for o in root.options if set(o.names) & set(SELECTORS) for n in o.names]


#: a POSIX sh program running "$@" for at most $0 seconds, where there is no timeout(1)
BOUNDED = (
    '"$@" & p=$!; { sleep "$0"; kill "$p"; } >/dev/null 2>&1 & w=$!; '
    'wait "$p"; kill "$w" 2>/dev/null'
)
