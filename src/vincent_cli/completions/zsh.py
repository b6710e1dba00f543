"""The zsh script: ``_arguments`` specs, one function per command."""

from __future__ import annotations

from vincent_cli.completions.model import (
    API_OPTION,
    BOUNDED,
    HEADER,
    KEYS_TIMEOUT,
    Command,
    Option,
    positions,
    selectors,
)

__all__ = ["render_zsh"]


def _zsh_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("'", "'\\''")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace(":", "\\:")
    )


def _zsh_action(kind: str, choices: tuple[str, ...] = ()) -> str:
    return {
        "file": "_files",
        "dir": "_files -/",
        "key": "_vincent_keys",
        "body": "{compset -P @ && _files}",
        "choice": f"({' '.join(choices)})",
    }.get(kind, " ")


def _zsh_option(option: Option) -> str:
    action = ""
    if option.takes_value:
        kind = "choice" if option.choices else option.kind
        message = {"file": "file", "dir": "directory"}.get(kind, "value")
        action = f":{message}:{_zsh_action(kind, option.choices)}"
    help_text = _zsh_text(option.help)
    # --name=: the value may follow in the same word (--name=value), as click takes it
    spelled = [n + "=" if option.takes_value and n.startswith("--") else n for n in option.names]
    if len(option.names) == 1:
        return f"'{spelled[0]}[{help_text}]{action}'"
    exclusive = " ".join(option.names)
    spellings = ",".join(spelled)
    return f"'({exclusive})'{{{spellings}}}'[{help_text}]{action}'"


def _zsh_arguments(command: Command) -> list[str]:
    specs = []
    for pattern, argument in positions(command):
        if argument is None:
            continue
        name = argument.name.replace("[", "").replace("]", "").replace(".", "").lower()
        name = "body or item" if argument.kind == "body" else name or "argument"
        action = _zsh_action(argument.kind, argument.choices)
        specs.append(f"'{pattern}:{_zsh_text(name)}:{action}'")
    return specs


def _zsh_keys(root: Command) -> list[str]:
    chosen = selectors(root)
    long_selectors = [n for n in chosen if n.startswith("--")]
    lines = [
        "_vincent_keys() {",
        "    # The keys bound on the exchange (vincent services --keys, with the broker,",
        "    # exchange, context and management API given on the line): nothing when that",
        f"    # fails or takes more than VINCENT_COMPLETION_TIMEOUT seconds ({KEYS_TIMEOUT}).",
        "    local exe=${(Q)vincent_words[1]}",
        f"    local limit=${{VINCENT_COMPLETION_TIMEOUT:-{KEYS_TIMEOUT}}}",
        "    local w out i",
        "    local -a globals api keys expl",
        "    [[ $PREFIX == -* ]] && return 1",
        "    (( $+commands[$exe] )) || [[ -x $exe ]] || exe=vincent",
        "    for (( i = 2; i <= $#vincent_words; i++ )); do",
        "        (( i == vincent_current )) && continue",
        "        w=${vincent_words[i]}",
        "        case $w in",
        "            (--) break ;;",
        "            (-h|--help) return 1 ;;",
        f"            ({'|'.join(chosen)}|{API_OPTION})",
        "                if (( i < $#vincent_words && i + 1 != vincent_current )); then",
        f"                    if [[ $w == {API_OPTION} ]]",
        "                    then api=($w ${(Q)vincent_words[i+1]})",
        "                    else globals+=($w ${(Q)vincent_words[i+1]}); fi",
        "                fi",
        "                (( i++ )) ;;",
        f"            ({API_OPTION}=*) api=({API_OPTION} ${{(Q)w#*=}}) ;;",
        f"            ({'|'.join(f'{n}=*' for n in long_selectors)}) "
        "globals+=(${w%%=*} ${(Q)w#*=}) ;;",
    ]
    for short in (n for n in chosen if not n.startswith("--")):
        lines.append(f"            ({short}?*) globals+=({short} ${{(Q)w#{short}}}) ;;")
    lines += [
        "        esac",
        "    done",
        "    if (( $+commands[timeout] )); then",
        '        out=$(timeout $limit $exe "${globals[@]}" services --keys "${api[@]}" \\',
        "            2>/dev/null </dev/null)",
        "    else",
        f"        out=$(sh -c '{BOUNDED}' $limit \\",
        '            $exe "${globals[@]}" services --keys "${api[@]}" 2>/dev/null </dev/null)',
        "    fi",
        "    keys=(${(f)out})",
        "    _wanted keys expl 'bound key' compadd -a keys",
        "}",
    ]
    return lines


def _zsh_function(command: Command, function: str) -> list[str]:
    lines = [
        f"{function}() {{",
        "    local curcontext=$curcontext state line",
    ]
    if function == "_vincent":  # the whole line, for _vincent_keys below a subcommand
        lines.append('    local -a vincent_words; vincent_words=("${words[@]}")')
        lines.append("    local vincent_current=$CURRENT")
    lines.append("    _arguments -C \\")
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
    specs = _zsh_arguments(command)
    if not specs:
        lines[-1] = lines[-1].removesuffix(" \\")
    lines += [f"        {spec} \\" for spec in specs[:-1]]
    lines += [f"        {specs[-1]}"] if specs else []
    lines.append("}")
    return lines


def render_zsh(root: Command) -> str:
    """``completions/_vincent``: put it in a directory on ``$fpath``."""
    lines = ["#compdef vincent", f"# zsh completion for vincent: {HEADER}", ""]
    lines += _zsh_function(root, "_vincent")
    lines += _zsh_keys(root)
    lines += ["", '_vincent "$@"', ""]
    return "\n".join(lines)
