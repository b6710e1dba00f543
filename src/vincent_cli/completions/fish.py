"""The fish script: one ``complete`` line per option, command and argument position."""

from __future__ import annotations

from vincent_cli.completions.model import (
    API_OPTION,
    BOUNDED,
    HEADER,
    HELP_OPTION,
    KEYS_TIMEOUT,
    Command,
    Option,
    positions,
    selectors,
)

__all__ = ["render_fish"]


def _fish_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _fish_action(kind: str, choices: tuple[str, ...] = ()) -> str:
    return {
        "file": "-F",
        "dir": "-f -a '(__fish_complete_directories (commandline -ct))'",
        "key": "-f -a '(__vincent_keys)'",
        "body": "-f -a '(__vincent_at_file)'",
        "choice": f"-f -a '{' '.join(choices)}'",
    }.get(kind, "")


def _fish_option(option: Option, condition: str) -> str:
    parts = ["complete -c vincent"]
    if condition:
        parts.append(f"-n '{condition}'")
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        parts.append("-r")
        kind = "choice" if option.choices else option.kind
        action = _fish_action(kind, option.choices)
        parts.append(("-F" if kind == "dir" else action) if action else "-f")
    parts.append(f"-d '{_fish_text(option.help)}'")
    return " ".join(parts)


def _fish_arguments(command: Command, condition: str, depth: int) -> list[str]:
    lines = []
    value_options = " ".join(command.value_options())
    for pattern, argument in positions(command):
        action = _fish_action(argument.kind, argument.choices) if argument else ""
        if not action:
            continue
        assert argument is not None
        where = "1+" if pattern == "*" and len(command.arguments) == 1 else pattern
        if where == "*":
            where = f"{len(command.arguments)}+"
        position = f"__vincent_position {where} {depth} {value_options}".rstrip()
        lines.append(f"complete -c vincent -n '{condition}; and {position}' {action}")
    return lines


def _fish_helpers(root: Command) -> list[str]:
    chosen = selectors(root)
    long_selectors = " ".join(f"'{n}=*'" for n in chosen if n.startswith("--"))
    lines = [
        "function __vincent_position --description 'Is the word being completed argument N "
        "(N+: N or after) of the command DEPTH words deep, with these OPTIONS taking a value?'",
        "    string match -q -- '-*' (commandline -ct); and return 1",
        f"    set -l takes_value $argv[3..-1] {' '.join(root.value_options())}",
        "    set -l seen 0; set -l pos 1; set -l value 0; set -l rest 0",
        "    for w in (commandline -opc)[2..-1]",
        "        if test $value = 1",
        "            set value 0",
        '        else if test $rest = 0; and test "$w" = --',
        "            set rest 1",
        "        else if test $rest = 0; and string match -q -- '-?*' $w",
        "            contains -- $w $takes_value; and set value 1",
        "        else if test $seen -lt $argv[2]",
        "            set seen (math $seen + 1)",
        "        else",
        "            set pos (math $pos + 1)",
        "        end",
        "    end",
        "    test $value = 1; and return 1  # an option's value",
        "    if string match -q -- '*+' $argv[1]",
        "        test $pos -ge (string trim -r -c + -- $argv[1])",
        "    else",
        "        test $pos -eq $argv[1]",
        "    end",
        "end",
        "function __vincent_at_file --description 'File names after the @ of an @file BODY'",
        "    set -l word (commandline -ct)",
        "    string match -q -- '@*' $word; or return",
        "    __fish_complete_path (string sub -s 2 -- $word) | string replace -r -- '^' @",
        "end",
        "function __vincent_keys --description 'The keys bound on the exchange (vincent "
        f"services --keys), nothing after VINCENT_COMPLETION_TIMEOUT seconds ({KEYS_TIMEOUT})'",
        "    string match -q -- '-*' (commandline -ct); and return",
        "    set -l tokens (commandline -opc)",
        "    set -l exe $tokens[1]",
        "    command -q $exe; or set exe vincent",
        "    set -l globals; set -l api; set -l i 2",
        "    while test $i -le (count $tokens)",
        "        set -l w $tokens[$i]",
        "        switch $w",
        "            case --",
        "                break",
        "            case -h --help",
        "                return",
        f"            case {' '.join(chosen)} {API_OPTION}",
        "                set i (math $i + 1)",
        "                if test $i -le (count $tokens)",
        f"                    if test $w = {API_OPTION}",
        "                        set api $w $tokens[$i]",
        "                    else",
        "                        set -a globals $w $tokens[$i]",
        "                    end",
        "                end",
        f"            case '{API_OPTION}=*'",
        f"                set api {API_OPTION} (string split -m 1 = -- $w)[2]",
        f"            case {long_selectors}",
        "                set -a globals (string split -m 1 = -- $w)",
    ]
    for short in (n for n in chosen if not n.startswith("--")):
        lines += [
            f"            case '{short}*'",
            f"                set -a globals {short} (string sub -s 3 -- $w)",
        ]
    lines += [
        "        end",
        "        set i (math $i + 1)",
        "    end",
        f"    set -l limit {KEYS_TIMEOUT}",
        "    set -q VINCENT_COMPLETION_TIMEOUT; and set limit $VINCENT_COMPLETION_TIMEOUT",
        "    if command -q timeout",
        "        timeout $limit $exe $globals services --keys $api 2>/dev/null </dev/null",
        "    else",
        f"        sh -c '{BOUNDED}' $limit \\",
        "            $exe $globals services --keys $api 2>/dev/null </dev/null",
        "    end",
        "end",
    ]
    return lines


def render_fish(root: Command) -> str:
    """``completions/vincent.fish``: put it in ``~/.config/fish/completions/``."""
    lines = [f"# fish completion for vincent: {HEADER}", "complete -c vincent -f"]
    lines += _fish_helpers(root)
    for option in root.options:
        lines.append(_fish_option(option, "__fish_use_subcommand"))
    for command in root.subcommands:
        lines.append(
            f"complete -c vincent -n '__fish_use_subcommand' -a {command.name} "
            f"-d '{_fish_text(command.help)}'"
        )
    for command in root.subcommands:
        seen = f"__fish_seen_subcommand_from {command.name}"
        if not command.subcommands:
            lines += _fish_arguments(command, seen, 1)
        for option in command.options:
            lines.append(_fish_option(option, seen))
        if command.subcommands:
            subs = " ".join(sub.name for sub in command.subcommands)
            for sub in command.subcommands:
                lines.append(
                    f"complete -c vincent -n '{seen}; and not __fish_seen_subcommand_from {subs}'"
                    f" -a {sub.name} -d '{_fish_text(sub.help)}'"
                )
                sub_seen = f"{seen}; and __fish_seen_subcommand_from {sub.name}"
                lines += _fish_arguments(sub, sub_seen, 2)
                for option in sub.options:
                    if option is not HELP_OPTION:
                        lines.append(_fish_option(option, sub_seen))
    return "\n".join(lines) + "\n"
