"""Shell completions for bash, zsh and fish, generated from the CLI itself.

``python -m vincent_cli.completions completions`` (``make completions``) writes
``completions/vincent.bash``, ``completions/_vincent`` and ``completions/vincent.fish``;
a test regenerates them and fails when the checked-in files drifted from the CLI.

The scripts are static (no Python at completion time, so they are instant): commands,
subcommands, options, choices (``--output json|pretty|raw``), files for ``FILE``
arguments and for ``@file`` bodies. The wheel ships them under ``share/`` (where
system-wide shells look), and ``vincent completions install`` writes the one for the
user's shell where it loads without root (:func:`install_path`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FILES",
    "Command",
    "Option",
    "activation",
    "describe_cli",
    "install_path",
    "render",
    "render_all",
]

HEADER = "generated from the CLI by `python -m vincent_cli.completions`; do not edit"


@dataclass(frozen=True)
class Option:
    """One option: its spellings, what its value completes to, its help line."""

    names: tuple[str, ...]
    takes_value: bool
    help: str
    choices: tuple[str, ...] = ()
    #: "file", "dir" or "" (no completion for the value)
    kind: str = ""


@dataclass
class Command:
    """A command (or the root, or a subcommand group) and what follows it."""

    name: str
    help: str
    options: list[Option] = field(default_factory=list)
    subcommands: list[Command] = field(default_factory=list)
    #: what positional arguments complete to: "file", "body" (JSON or @file),
    #: "choice" (one of ``choices``) or ""
    arguments: str = ""
    choices: tuple[str, ...] = ()


_HELP_OPTION = Option(("-h", "--help"), False, "Show the help and exit.")
_KINDS = {"FILE": "file", "DIR": "dir"}


def _short(text: str | None) -> str:
    line = (text or "").strip().split("\n", 1)[0].strip()
    return line if len(line) <= 70 else line[:69].rstrip() + "…"


def _describe(name: str, command: object) -> Command:
    params = getattr(command, "params", [])
    short = getattr(command, "get_short_help_str", lambda limit: "")(200)
    result = Command(name, _short(short))
    for param in params:
        if param.param_type_name == "argument":
            metavar = param.metavar or ""
            result.arguments = _KINDS.get(metavar, "body" if "BODY" in metavar else "")
            if param.type_descriptor.is_choice:
                result.arguments = "choice"
                result.choices = tuple(
                    str(getattr(c, "value", c)) for c in param.type_descriptor.choices or ()
                )
            continue
        descriptor = param.type_descriptor
        choices = tuple(str(getattr(c, "value", c)) for c in descriptor.choices or ())
        result.options.append(
            Option(
                names=tuple(sorted(param.opts + param.secondary_opts, key=len)),
                takes_value=not param.is_flag,
                help=_short(param.help),
                choices=choices if descriptor.is_choice else (),
                kind=_KINDS.get(param.metavar or "", ""),
            )
        )
    result.options.append(_HELP_OPTION)
    for sub_name, sub in getattr(command, "commands", {}).items():
        result.subcommands.append(_describe(sub_name, sub))
    return result


def describe_cli() -> Command:
    """The CLI's commands and options, read from the typer app."""
    import typer

    from vincent_cli.main import app

    return _describe("vincent", typer.main.get_command(app))


#: bash: complete file names (quoted, directories with a slash)
_FILES = "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen"


# -- bash --------------------------------------------------------------------------------


def _words(options: list[Option]) -> str:
    return " ".join(name for option in options for name in option.names)


def _bash_values(command: Command, indent: str) -> list[str]:
    lines = [f'{indent}case "$prev" in']
    for option in command.options:
        if not option.takes_value:
            continue
        pattern = "|".join(option.names)
        if option.choices:
            action = f'COMPREPLY=($(compgen -W "{" ".join(option.choices)}" -- "$cur"))'
        elif option.kind == "file":
            action = _FILES + ' -f -- "$cur"))'
        elif option.kind == "dir":
            action = _FILES + ' -d -- "$cur"))'
        else:
            action = ":"
        lines.append(f"{indent}    {pattern}) {action}; return ;;")
    lines.append(f"{indent}esac")
    return lines


def _bash_case(command: Command, path: str) -> list[str]:
    lines = [f'        "{path}")']
    lines += _bash_values(command, " " * 12)
    positional = {
        "file": _FILES + ' -f -- "$cur"))',
        "body": 'case "$cur" in @*) ' + _FILES + ' -P @ -f -- "${cur#@}")) ;; esac',
        "choice": f'COMPREPLY=($(compgen -W "{" ".join(command.choices)}" -- "$cur"))',
        "": ":",
    }[command.arguments]
    if command.subcommands:
        names = " ".join(sub.name for sub in command.subcommands)
        positional = f'[ -z "$sub" ] && COMPREPLY=($(compgen -W "{names}" -- "$cur"))'
    lines += [
        '            case "$cur" in',
        f'                -*) COMPREPLY=($(compgen -W "{_words(command.options)}" -- "$cur")) ;;',
        f"                *) {positional} ;;",
        "            esac",
        "            ;;",
    ]
    return lines


def render_bash(root: Command) -> str:
    """``completions/vincent.bash``: source it, or drop it in bash-completion's directory."""
    global_values = "|".join(n for o in root.options if o.takes_value for n in o.names)
    groups = [c for c in root.subcommands if c.subcommands]
    lines = [
        f"# bash completion for vincent: {HEADER}",
        "_vincent()",
        "{",
        '    local cur prev cmd="" sub="" w i=1',
        "    COMPREPLY=()",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    while [ "$i" -lt "$COMP_CWORD" ]; do',
        '        w="${COMP_WORDS[i]}"',
        '        if [ -z "$cmd" ]; then',
        '            case "$w" in',
        f"                {global_values}) i=$((i + 1)) ;;",
        "                -*) ;;",
        '                *) cmd="$w" ;;',
        "            esac",
    ]
    if groups:
        names = "|".join(g.name for g in groups)
        lines += [
            '        elif [ -z "$sub" ]; then',
            '            case "$cmd:$w" in',
            f"                {'|'.join(f'{g.name}:-*' for g in groups)}) ;;",
            f'                {names.replace("|", ":*|")}:*) sub="$w" ;;',
            "            esac",
        ]
    lines += ["        fi", "        i=$((i + 1))", "    done", '    case "$cmd${sub:+ $sub}" in']
    lines += _bash_case(root, "")
    for command in root.subcommands:
        lines += _bash_case(command, command.name)
        for sub in command.subcommands:
            lines += _bash_case(sub, f"{command.name} {sub.name}")
    lines += ["    esac", "}", "complete -F _vincent vincent", ""]
    return "\n".join(lines)


# -- zsh ---------------------------------------------------------------------------------


def _zsh_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("'", "'\\''")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace(":", "\\:")
    )


def _zsh_option(option: Option) -> str:
    action = ""
    if option.takes_value:
        if option.choices:
            action = f":value:({' '.join(option.choices)})"
        elif option.kind == "file":
            action = ":file:_files"
        elif option.kind == "dir":
            action = ":directory:_files -/"
        else:
            action = ":value: "
    help_text = _zsh_text(option.help)
    if len(option.names) == 1:
        return f"'{option.names[0]}[{help_text}]{action}'"
    exclusive = " ".join(option.names)
    spellings = ",".join(option.names)
    return f"'({exclusive})'{{{spellings}}}'[{help_text}]{action}'"


def _zsh_function(command: Command, function: str) -> list[str]:
    lines = [
        f"{function}() {{",
        "    local curcontext=$curcontext state line",
        "    _arguments -C \\",
    ]
    for option in command.options:
        lines.append(f"        {_zsh_option(option)} \\")
    if command.subcommands:
        lines += [
            "        '1: :->command' \\",
            "        '*:: :->args' && return",
            "    case $state in",
        ]
        described = " ".join(
            f"'{_zsh_text(sub.name)}:{_zsh_text(sub.help)}'" for sub in command.subcommands
        )
        lines += [
            "        command)",
            f"            local -a commands; commands=({described})",
            "            _describe -t commands 'vincent command' commands ;;",
            "        args)",
            "            case $line[1] in",
        ]
        for sub in command.subcommands:
            lines.append(f"                {sub.name}) {function}_{sub.name} ;;")
        lines += ["            esac ;;", "    esac", "}"]
        for sub in command.subcommands:
            lines += _zsh_function(sub, f"{function}_{sub.name}")
        return lines
    positional = {
        "file": "'*:file:_files'",
        "body": "'*:body or item: '",
        "choice": f"'1:choice:({' '.join(command.choices)})'",
        "": "'*:argument: '",
    }
    lines += [f"        {positional[command.arguments]}", "}"]
    return lines


def render_zsh(root: Command) -> str:
    """``completions/_vincent``: put it in a directory on ``$fpath``."""
    lines = ["#compdef vincent", f"# zsh completion for vincent: {HEADER}", ""]
    lines += _zsh_function(root, "_vincent")
    lines += ["", '_vincent "$@"', ""]
    return "\n".join(lines)


# -- fish --------------------------------------------------------------------------------


def _fish_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _fish_option(option: Option, condition: str) -> str:
    parts = ["complete -c vincent"]
    if condition:
        parts.append(f"-n '{condition}'")
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        parts.append("-r")
        if option.choices:
            parts.append(f"-f -a '{' '.join(option.choices)}'")
        elif option.kind in ("file", "dir"):
            parts.append("-F")
    parts.append(f"-d '{_fish_text(option.help)}'")
    return " ".join(parts)


def render_fish(root: Command) -> str:
    """``completions/vincent.fish``: put it in ``~/.config/fish/completions/``."""
    lines = [f"# fish completion for vincent: {HEADER}", "complete -c vincent -f"]
    for option in root.options:
        lines.append(_fish_option(option, "__fish_use_subcommand"))
    for command in root.subcommands:
        lines.append(
            f"complete -c vincent -n '__fish_use_subcommand' -a {command.name} "
            f"-d '{_fish_text(command.help)}'"
        )
    for command in root.subcommands:
        seen = f"__fish_seen_subcommand_from {command.name}"
        if command.arguments == "file":
            lines.append(f"complete -c vincent -n '{seen}' -F")
        for option in command.options:
            lines.append(_fish_option(option, seen))
        if command.subcommands:
            subs = " ".join(sub.name for sub in command.subcommands)
            for sub in command.subcommands:
                lines.append(
                    f"complete -c vincent -n '{seen}; and not __fish_seen_subcommand_from {subs}'"
                    f" -a {sub.name} -d '{_fish_text(sub.help)}'"
                )
                if sub.arguments == "choice":
                    lines.append(
                        f"complete -c vincent -n '{seen}; and __fish_seen_subcommand_from "
                        f"{sub.name}' -a '{' '.join(sub.choices)}'"
                    )
                for option in sub.options:
                    if option is not _HELP_OPTION:
                        lines.append(
                            _fish_option(
                                option, f"{seen}; and __fish_seen_subcommand_from {sub.name}"
                            )
                        )
    return "\n".join(lines) + "\n"


def render_all() -> dict[str, str]:
    """Every completion file by name."""
    root = describe_cli()
    return {
        "vincent.bash": render_bash(root),
        "_vincent": render_zsh(root),
        "vincent.fish": render_fish(root),
    }


#: the file name of each shell's script
FILES = {"bash": "vincent.bash", "zsh": "_vincent", "fish": "vincent.fish"}


def render(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    return render_all()[FILES[shell]]


def install_path(shell: str, environ: dict[str, str] | None = None) -> Path:
    """Where ``vincent completions install`` puts a shell's script, per user: the
    directories bash-completion and fish load on demand; for zsh a directory to add to
    ``fpath`` (:func:`activation`)."""
    import os

    env = dict(os.environ) if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if shell == "bash":
        return data / "bash-completion" / "completions" / "vincent"
    if shell == "zsh":
        return Path(env.get("ZDOTDIR") or home) / ".zfunc" / "_vincent"
    return config / "fish" / "completions" / "vincent.fish"


def activation(shell: str, path: Path) -> str:
    """What the user still has to do for ``shell`` to load ``path`` (empty: nothing)."""
    if shell == "bash":
        return (
            "bash-completion loads it in new shells; without bash-completion add to "
            f"~/.bashrc: source {path}"
        )
    if shell == "zsh":
        return (
            f"add to ~/.zshrc, before compinit: fpath=({path.parent} $fpath); "
            "autoload -Uz compinit && compinit"
        )
    return "fish loads it in new shells"


def main(argv: list[str]) -> int:
    """``python -m vincent_cli.completions [DIR]``: write every script into DIR
    (default: completions), as ``make completions`` does."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m vincent_cli.completions",
        description="Write the bash, zsh and fish completion scripts into DIR.",
    )
    parser.add_argument("dir", nargs="?", default="completions", metavar="DIR")
    directory = Path(parser.parse_args(argv).dir)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (directory / name).write_text(text)
        print(f"wrote {directory / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
