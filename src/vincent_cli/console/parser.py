"""From a typed line to a command: pure functions, no I/O.

Words are split as a POSIX shell would (quotes, backslashes), with one addition: a
JSON object or array (``{...}``, ``[...]``, also as the value of ``name:=[...]``) is
taken verbatim up to its matching bracket, spaces and quotes included, so a body can be
typed as is::

    >>> [w.text for w in split_words('cast file.put {"name": "a b"} mode=fast')]
    ['cast', 'file.put', '{"name": "a b"}', 'mode=fast']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vincent_cli.console.grammar import ALIASES, COMMANDS, CommandSpec, lookup
from vincent_cli.console.suggest import did_you_mean

__all__ = [
    "Command",
    "UsageError",
    "Word",
    "needs_more",
    "parse_line",
    "parse_number",
    "parse_range",
    "split_words",
]

_OPEN = {"{": "}", "[": "]"}


class UsageError(ValueError):
    """A line that is not a valid command; the message says why."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word: its text with quoting removed, where it sits in the line, and how it
    was written."""

    text: str
    start: int
    end: int
    #: a bracketed JSON region, taken verbatim
    json: bool = False
    #: False when the line ended inside a quote or an open bracket
    complete: bool = True


def _scan_json(line: str, start: int) -> tuple[int, bool]:
    """The end of the bracketed region at ``start`` and whether it closed."""
    depth = 0
    index = start
    in_string = False
    while index < len(line):
        char = line[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1, True
        index += 1
    return len(line), False


def _scan_word(line: str, start: int) -> Word:
    """A shell word starting at ``start`` (the caller skipped the white space)."""
    if line[start] in _OPEN:
        end, closed = _scan_json(line, start)
        if end == len(line) or line[end].isspace():
            return Word(line[start:end], start, end, json=True, complete=closed)
    text: list[str] = []
    index = start
    complete = True
    while index < len(line) and not line[index].isspace():
        char = line[index]
        if char in _OPEN and (index == start or line.endswith(":=", start, index)):
            end, closed = _scan_json(line, index)
            text.append(line[index:end])
            index = end
            complete = complete and closed
        elif char == "'":
            end = line.find("'", index + 1)
            if end < 0:
                text.append(line[index + 1 :])
                index, complete = len(line), False
            else:
                text.append(line[index + 1 : end])
                index = end + 1
        elif char == '"':
            index += 1
            while index < len(line) and line[index] != '"':
                if line[index] == "\\" and index + 1 < len(line) and line[index + 1] in '"\\$`':
                    index += 1
                text.append(line[index])
                index += 1
            complete = complete and index < len(line)
            index = min(index + 1, len(line))
        elif char == "\\" and index + 1 < len(line):
            text.append(line[index + 1])
            index += 2
        else:
            text.append(char)
            index += 1
    return Word("".join(text), start, index, complete=complete)


def split_words(line: str) -> list[Word]:
    """The line's words (see the module docstring for the rules)."""
    words: list[Word] = []
    index = 0
    while index < len(line):
        if line[index].isspace():
            index += 1
            continue
        word = _scan_word(line, index)
        words.append(word)
        index = word.end
    return words


def needs_more(text: str) -> bool:
    """Whether Enter should start a new line rather than run ``text``: it ends inside an
    open bracket or a quote."""
    words = split_words(text)
    return bool(words) and not words[-1].complete


def parse_number(text: str, what: str = "N") -> int:
    """A history number (``12`` or ``#12``)."""
    digits = text[1:] if text.startswith("#") else text
    if not digits.isdigit() or int(digits) < 1:
        raise UsageError(f"{what} must be a message number like 12, not {text!r}")
    return int(digits)


def parse_range(text: str, last: int) -> list[int]:
    """Message numbers from ``3``, ``3-7``, ``5-``, ``-4`` or a comma list of those;
    ``last`` is the highest number that exists (open ends stop there)."""
    numbers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low_text, high_text = part.split("-", 1)
            low = parse_number(low_text, "RANGE") if low_text else 1
            high = parse_number(high_text, "RANGE") if high_text else last
            if high < low:
                raise UsageError(f"RANGE {part!r} runs backwards")
            numbers.extend(range(low, high + 1))
        else:
            numbers.append(parse_number(part, "RANGE"))
    if not numbers:
        raise UsageError(f"RANGE {text!r} names no message")
    return numbers


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed line: the command, its positional words and its options.

    ``options`` maps the long option name (``--timeout``) to the values given, in order.
    """

    name: str
    args: tuple[Word, ...] = ()
    options: dict[str, list[str]] = field(default_factory=dict)

    def option(self, name: str) -> str | None:
        """The last value given for ``name``, if any."""
        values = self.options.get(name)
        return values[-1] if values else None

    def number(self, name: str) -> float | None:
        """An option's value as a non-negative number of seconds, if given."""
        value = self.option(name)
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            raise UsageError(f"{name} takes a number of seconds, not {value!r}") from None
        if not seconds >= 0:
            raise UsageError(f"{name} takes a positive number of seconds, not {value!r}")
        return seconds


# How many positional words each command takes: (least, most); None is no limit.
_ARITY: dict[str, tuple[int, int | None]] = {
    "cast": (1, None),
    "call": (1, None),
    "tail": (0, None),
    "untail": (0, None),
    "history": (0, 2),
    "show": (1, 1),
    "replay": (1, None),
    "edit": (1, 1),
    "save": (1, 2),
    "load": (1, 1),
    "queues": (0, None),
    "routes": (0, 0),
    "ls": (0, 1),
    "desc": (1, 1),
    "dead": (0, 2),
    "filter": (0, None),
    "clear": (0, 0),
    "help": (0, 1),
    "exit": (0, 0),
}


def _split_options(spec: CommandSpec, words: list[Word]) -> Command:
    args: list[Word] = []
    options: dict[str, list[str]] = {}
    index = 0
    only_args = False
    while index < len(words):
        word = words[index]
        index += 1
        if only_args or word.json or not word.text.startswith("-") or word.text == "-":
            args.append(word)
            continue
        if word.text == "--":
            only_args = True
            continue
        name, has_value, value = word.text.partition("=")
        option = spec.option(name)
        if option is None:
            names = [n for o in spec.options for n in o.names]
            known = ", ".join(names) or "none"
            hint = did_you_mean(name, names)
            raise UsageError(f"{spec.name}: unknown option {name!r}{hint} (options: {known})")
        if not has_value:
            if index >= len(words):
                raise UsageError(f"{spec.name}: {name} needs a value ({option.metavar})")
            value = words[index].text
            index += 1
        if option.name in options and not option.repeat:
            raise UsageError(f"{spec.name}: {name} given twice")
        options.setdefault(option.name, []).append(value)
    return Command(spec.name, tuple(args), options)


def parse_line(line: str) -> Command | None:
    """The command on ``line``, or ``None`` for a blank line.

    Raises :class:`UsageError` for an unknown command, an unknown option, a missing value
    or the wrong number of arguments.
    """
    words = split_words(line)
    if not words:
        return None
    if not words[-1].complete:
        raise UsageError("unfinished input: a quote or a bracket is still open")
    head = words[0].text
    spec = lookup(head)
    if spec is None:
        hint = did_you_mean(head, [*COMMANDS, *ALIASES])
        raise UsageError(f"unknown command {head!r}{hint} (help lists them)")
    command = _split_options(spec, words[1:])
    least, most = _ARITY[spec.name]
    count = len(command.args)
    if count < least or (most is not None and count > most):
        raise UsageError(f"usage: {spec.usage}")
    return command
