"""Tab completion: commands, options, routing keys, history numbers, file paths.

:func:`suggest` is the logic (the line before the cursor in, candidates out) and reads
only the :class:`~vincent_cli.console.session.Session`; :class:`ConsoleCompleter` hands
its answers to prompt_toolkit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from vincent_cli.console.filtering import KINDS
from vincent_cli.console.grammar import ALIASES, COMMANDS, CommandSpec, lookup
from vincent_cli.console.parser import Word, split_words
from vincent_cli.console.session import Session

__all__ = ["Candidate", "ConsoleCompleter", "Suggestions", "suggest"]

#: the most history numbers offered at once (newest first)
_NUMBERS = 30
_PATH_COMMANDS = ("save", "load")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One suggestion: the text that replaces the current word, and a hint beside it."""

    text: str
    meta: str = ""


def _is_pattern(key: str) -> bool:
    words = key.split(".")
    return "*" in words or "#" in words


def _patterns(session: Session) -> list[str]:
    """Keys seen, the app's keys, and wildcard patterns made from them."""
    result: list[str] = []
    for key in session.known_keys():
        result.append(key)
        head = key.rsplit(".", 1)[0] if "." in key else ""
        if head:
            result += [f"{head}.*", f"{head}.#"]
    result.append("#")
    return list(dict.fromkeys(result))


def _numbers(session: Session) -> list[Candidate]:
    entries = list(session.history)[-_NUMBERS:]
    return [
        Candidate(str(e.number), f"{'call' if e.is_call else 'cast'} {e.key}")
        for e in reversed(entries)
    ]


def _fields(fields: Iterable[str], typed: list[Word]) -> list[Candidate]:
    used = {w.text.split("=", 1)[0].rstrip(":") for w in typed}
    return [Candidate(f"{name}=", "body field") for name in fields if name not in used]


def _positional(spec: CommandSpec, before: list[Word]) -> list[Word]:
    """The positional words before the cursor (options and their values left out)."""
    result: list[Word] = []
    skip = False
    for word in before:
        if skip:
            skip = False
        elif not word.json and word.text.startswith("-") and word.text != "-":
            option = spec.option(word.text.split("=", 1)[0])
            skip = option is not None and "=" not in word.text
        else:
            result.append(word)
    return result


@dataclass(frozen=True, slots=True)
class Suggestions:
    """The word being completed (``prefix``, written in ``length`` characters, quotes
    included) and what could replace it."""

    prefix: str
    length: int
    candidates: list[Candidate]


_PATH = Candidate("", "path")


def suggest(session: Session, text: str) -> Suggestions:
    """What can complete the word before the cursor (``text`` is the line up to it).

    Paths are left to the caller: the candidates are ``[_PATH]`` when the word is the
    FILE of ``save`` or ``load``.
    """
    words = split_words(text)
    if words and words[-1].end == len(text) and not text[-1:].isspace():
        current, before = words[-1], words[:-1]
    else:
        current, before = None, words
    prefix = current.text if current is not None else ""
    length = current.end - current.start if current is not None else 0
    return Suggestions(prefix, length, _candidates(session, current, before))


def _candidates(session: Session, current: Word | None, before: list[Word]) -> list[Candidate]:
    prefix = current.text if current is not None else ""
    if current is not None and (current.json or "{" in prefix or "[" in prefix):
        return []
    if not before:
        commands = [Candidate(name, spec.summary) for name, spec in COMMANDS.items()]
        return commands + [Candidate(alias, f"= {name}") for alias, name in ALIASES.items()]
    spec = lookup(before[0].text)
    if spec is None:
        return []
    if prefix.startswith("-"):
        return [Candidate(n, o.help) for o in spec.options for n in o.names]
    previous = before[-1].text if len(before) > 1 else ""
    option = spec.option(previous) if previous.startswith("-") else None
    if option is not None:
        if option.name == "--key":
            return [Candidate(k, "key") for k in session.known_keys() if not _is_pattern(k)]
        return []
    args = _positional(spec, before[1:])
    return _for_argument(session, spec.name, args)


def _for_argument(session: Session, command: str, args: list[Word]) -> list[Candidate]:
    position = len(args)
    if command in ("cast", "call"):
        if position == 0:
            keys = [k for k in session.known_keys() if not _is_pattern(k)]
            return [Candidate(k, "key") for k in keys]
        return _fields(session.fields_of(args[0].text), args[1:])
    if command in ("tail", "history", "filter") and (command != "history" or position < 2):
        extra = [Candidate("off", "no filter")] if command == "filter" and not args else []
        kinds = [Candidate(f"is:{k}") for k in KINDS] if command == "filter" else []
        taken = set(session.taps) if command == "tail" else set()
        found = [Candidate(p, "pattern") for p in _patterns(session) if p not in taken]
        return extra + found + kinds
    if command == "untail":
        return [Candidate(p, "tap") for p in session.taps]
    if command in ("show", "edit") and position == 0:
        return _numbers(session)
    if command == "replay":
        if position == 0:
            return _numbers(session)
        entry = session.history.get(int(args[0].text)) if args[0].text.isdigit() else None
        return _fields(session.fields_of(entry.key) if entry else [], args[1:])
    if command in _PATH_COMMANDS and position == 0:
        return [_PATH]
    if command == "save" and position == 1 and len(session.history):
        return [Candidate(f"1-{len(session.history)}", "range")]
    if command in ("ls", "desc") and position == 0:
        return [Candidate(k, "key") for k in session.known_keys()]
    if command == "queues":
        return [Candidate(k, "queue") for k in session.known_keys() if not _is_pattern(k)]
    if command == "help" and position == 0:
        return [Candidate(name, spec.summary) for name, spec in COMMANDS.items()]
    return []


class ConsoleCompleter(Completer):
    """prompt_toolkit's view of :func:`suggest`, with file paths for save and load."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        found = suggest(self.session, document.text_before_cursor)
        if found.candidates == [_PATH]:
            yield from self._paths.get_completions(Document(found.prefix), complete_event)
            return
        for candidate in found.candidates:
            if candidate.text.startswith(found.prefix) and candidate.text != found.prefix:
                yield Completion(candidate.text, -found.length, display_meta=candidate.meta or None)
