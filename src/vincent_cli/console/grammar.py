"""The console's commands: names, options and help text, in one table.

The parser, the completer and ``help`` all read this table, so a command or option
added here is parsed, completed and documented at once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALIASES", "COMMANDS", "CommandSpec", "OptionSpec", "lookup"]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One ``--option``: its names, whether it takes a value, and what it does."""

    names: tuple[str, ...]
    metavar: str = ""
    help: str = ""
    repeat: bool = False

    @property
    def name(self) -> str:
        """The long name, the one parsed values are filed under (``--timeout``)."""
        return self.names[0]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command: how it is written, a one-line summary and a longer description."""

    name: str
    usage: str
    summary: str
    description: str = ""
    options: tuple[OptionSpec, ...] = ()

    def option(self, word: str) -> OptionSpec | None:
        """The option ``word`` names (``--timeout``, ``-H``), if this command has it."""
        for option in self.options:
            if word in option.names:
                return option
        return None


_TTL = OptionSpec(("--ttl",), "S", "time to live in seconds (the AMQP expiration)")
_HEADER = OptionSpec(("--header", "-H"), "K:V", "add a header (repeatable)", repeat=True)
_TIMEOUT = OptionSpec(("--timeout",), "S", "seconds to wait for the reply (default 10)")

_BODY_HELP = (
    "BODY is JSON (typed as is, no quoting needed; an open bracket continues on the next "
    "line) or @FILE. ITEMs are merged into the body: name=value (a string) or "
    "name:=json. Words are quoted as in a shell."
)

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "cast",
            "cast KEY [BODY] [ITEM...]",
            "publish a message to KEY",
            _BODY_HELP + " A cast that nothing is bound to is reported as 'no route'.",
            (_TTL, _HEADER),
        ),
        CommandSpec(
            "call",
            "call KEY [BODY] [ITEM...]",
            "send a request to KEY and show the reply",
            _BODY_HELP + " Ctrl-C stops waiting for the reply.",
            (_TIMEOUT, _TTL, _HEADER),
        ),
        CommandSpec(
            "tail",
            "tail PATTERN...",
            "watch a copy of the traffic matching topic patterns",
            "Taps bind a private queue to the exchange: workers still get every message. "
            "Patterns use topic wildcards: * is one word, # is zero or more. "
            "Messages print above the prompt as they arrive. Without PATTERN: list the taps.",
        ),
        CommandSpec(
            "untail",
            "untail [PATTERN...]",
            "stop watching some patterns (all without PATTERN)",
        ),
        CommandSpec(
            "history",
            "history [N] [PATTERN]",
            "list the last N messages seen and sent (all by default)",
            "Each line starts with its number, for show, replay, edit and save. "
            "PATTERN keeps the keys it matches; the display filter applies too.",
        ),
        CommandSpec(
            "show",
            "show N",
            "show message N in full: properties, headers, body, and its reply",
        ),
        CommandSpec(
            "replay",
            "replay N [ITEM...]",
            "send message N again, optionally changing body fields",
            "Body and headers are sent byte for byte unless ITEMs change fields. The "
            "message gets a new id; a deadline header is renewed with the time to live the "
            "original had. A call is replayed as a call and its reply shown.",
            (
                OptionSpec(("--key",), "KEY", "send to another routing key"),
                _TIMEOUT,
            ),
        ),
        CommandSpec(
            "edit",
            "edit N",
            "edit message N as JSON, then send it",
            "Opens the message in the record format in $VISUAL or $EDITOR, or, when "
            "neither is set, in a multiline buffer (Esc Enter sends, Ctrl-C abandons). "
            "A message with reply_to is sent as a call. Left unchanged, nothing is sent "
            "(replay N sends it as it was); a JSON mistake in the buffer reopens it there.",
            (_TIMEOUT,),
        ),
        CommandSpec(
            "save",
            "save FILE [RANGE]",
            "write messages to FILE in the record format of vincent record",
            "RANGE is numbers and spans: 3, 3-7, 5-, -4, or a list: 1,3,5-7. Default: all. "
            "Replies are kept with their calls in show, not saved as messages.",
        ),
        CommandSpec(
            "load",
            "load FILE",
            "read a record file (vincent record, save) into the history",
            "Loaded messages are numbered like the others and sent again with replay N.",
        ),
        CommandSpec(
            "queues",
            "queues [NAME...]",
            "depth and consumers of queues",
            "Without NAME: the dead-letter queue, the app's queues, and queues named like "
            "the keys met so far (a shared queue is named after its key).",
        ),
        CommandSpec("routes", "routes", "the --app listeners: key, queue, route_to, handler"),
        CommandSpec(
            "ls",
            "ls [PATTERN]",
            "what is served: each bound key, its queue, depth, consumers and handler",
            "From the management API (VINCENT_API_URL, else port 15672 of the broker's "
            "host), joined with the --app's handlers; PATTERN is a shell-style glob.",
        ),
        CommandSpec("desc", "desc KEY", "describe a key: queue, consumers, handler, docs, schemas"),
        CommandSpec(
            "dead",
            "dead [list | replay [PATTERN] | purge]",
            "dead letters: list them, send them again, or drop them",
            "dead (or dead list) shows the dead letters, oldest first, and adds each to "
            "the history as the original message: show N gives its reason, error and "
            "traceback, replay N sends it again. Listing removes nothing. dead replay "
            "sends each (those whose key matches PATTERN) to its original key and removes "
            "it once the broker confirmed; one that nothing is bound to stays. dead purge "
            "drops them all. Works in vincent dev too (memory://).",
            (
                OptionSpec(
                    ("--queue", "-q"), "NAME", "the dead-letter queue (default: vincent.dead)"
                ),
                OptionSpec(("--count", "-n"), "N", "at most N dead letters"),
            ),
        ),
        CommandSpec(
            "filter",
            "filter [EXPR | off]",
            "show only matching messages (tap output and history)",
            "EXPR is words that must all hold: a topic PATTERN on the key (several "
            "patterns: any of them), !PATTERN (not that key), ~TEXT (the body contains "
            "TEXT), FIELD=VALUE (a body field, dotted for nested objects), is:KIND (cast, "
            "call, sent, seen, loaded, error). Without EXPR: show the filter in force.",
        ),
        CommandSpec("clear", "clear", "clear the screen"),
        CommandSpec("help", "help [COMMAND]", "list the commands, or explain one"),
        CommandSpec("exit", "exit", "leave the console (Ctrl-D too); taps stop"),
    )
}

#: other names a command answers to
ALIASES: dict[str, str] = {"quit": "exit", "?": "help", "h": "history"}


def lookup(name: str) -> CommandSpec | None:
    """The command called ``name`` (or an alias of it)."""
    return COMMANDS.get(ALIASES.get(name, name))
