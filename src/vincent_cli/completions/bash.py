"""The bash script: one ``_vincent`` function registered with ``complete -F``."""

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

__all__ = ["render_bash"]

#: bash: complete file names (quoted, directories with a slash)
_FILES = "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen"


def _words(options: list[Option]) -> str:
    return " ".join(name for option in options for name in option.names)


def _bash_action(kind: str, choices: tuple[str, ...] = ()) -> str:
    return {
        "file": _FILES + ' -f -- "$cur"))',
        "dir": _FILES + ' -d -- "$cur"))',
        "key": "_vincent_keys",
        "body": "_vincent_at_file",
        "choice": f'COMPREPLY=($(compgen -W "{" ".join(choices)}" -- "$cur"))',
    }.get(kind, ":")


def _bash_values(command: Command, indent: str) -> list[str]:
    lines = [f'{indent}case "$prev" in']
    for option in command.options:
        if not option.takes_value:
            continue
        pattern = "|".join(option.names)
        kind = "choice" if option.choices else option.kind
        lines.append(f"{indent}    {pattern}) {_bash_action(kind, option.choices)}; return ;;")
    lines.append(f"{indent}esac")
    return lines


def _bash_arguments(command: Command) -> list[str]:
    if command.subcommands:
        names = " ".join(sub.name for sub in command.subcommands)
        return [f'[ -z "$sub" ] && COMPREPLY=($(compgen -W "{names}" -- "$cur"))']
    slots = positions(command)
    if slots == [("*", None)]:
        return [":"]
    if len(slots) == 2 and slots[0][0] == "1" and slots[1][1] is None:
        argument = slots[0][1]
        assert argument is not None
        if argument.kind in ("", "choice"):  # nothing, or choices (no other word there)
            return [_bash_action(argument.kind, argument.choices)]
    lines = [f"_vincent_position {' '.join(command.value_options())}".rstrip()]
    lines.append('case "$pos" in')
    for pattern, argument in slots:
        action = _bash_action(argument.kind, argument.choices) if argument else ":"
        lines.append(f"    {pattern}) {action} ;;")
    lines.append("esac")
    return lines


def _bash_case(command: Command, path: str) -> list[str]:
    lines = [f'        "{path}")']
    lines += _bash_values(command, " " * 12)
    arguments = _bash_arguments(command)
    lines += [
        '            case "$cur" in',
        f'                -*) COMPREPLY=($(compgen -W "{_words(command.options)}" -- "$cur")) ;;',
    ]
    if len(arguments) == 1:
        lines.append(f"                *) {arguments[0]} ;;")
    else:
        lines.append(f"                *) {arguments[0]}")
        lines += [" " * 19 + line for line in arguments[1:-1]]
        lines.append(" " * 19 + arguments[-1] + " ;;")
    lines += ["            esac", "            ;;"]
    return lines


def _bash_helpers(root: Command) -> list[str]:
    chosen = selectors(root)
    long_selectors = [n for n in chosen if n.startswith("--")]
    shorts = [n for n in chosen if not n.startswith("--")]
    assigned = "|".join(f"{n}=*" for n in long_selectors)
    lines = [
        "_vincent_words()",
        "{",
        "    # COMP_WORDS is cut at COMP_WORDBREAKS (amqp://h:5672 is 5 words): join again",
        "    # what has no blank between it on the line, into words and cword",
        '    local line="$COMP_LINE" rest w i',
        "    words=() cword=0",
        '    if [ -z "$line" ]; then',
        '        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD',
        "        return",
        "    fi",
        "    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do",
        '        w="${COMP_WORDS[i]}"',
        '        rest="${line#"${line%%[![:space:]]*}"}"',
        '        if [ "$i" -gt 0 ] && [ "${#rest}" -eq "${#line}" ]; then',
        '            words[${#words[@]}-1]+="$w"',
        "        else",
        '            words+=("$w")',
        "        fi",
        '        line="${rest#"$w"}"',
        '        [ "$i" -eq "$COMP_CWORD" ] && cword=$((${#words[@]} - 1))',
        "    done",
        "}",
        "_vincent_position()",
        "{",
        "    # pos: which argument of the (sub)command the word being completed is (1, 2...);",
        "    # $@: the options of the (sub)command that take a value",
        "    local i w o value=0 rest=0",
        "    pos=1",
        "    for ((i = start; i < cword; i++)); do",
        '        w="${words[i]}"',
        '        if [ "$value" = 1 ]; then',
        "            value=0",
        '        elif [ "$rest" = 0 ] && [ "$w" = -- ]; then',
        "            rest=1",
        '        elif [ "$rest" = 0 ] && [[ $w == -?* ]]; then',
        '            for o in "$@"; do [ "$w" = "$o" ] && value=1; done',
        "        else",
        "            pos=$((pos + 1))",
        "        fi",
        "    done",
        "}",
        "_vincent_unquote()",
        "{",
        "    # REPLY: an option's value as typed, without its quotes",
        '    case "$1" in',
        '        \\\'*\\\' | \\"*\\") REPLY="${1:1:${#1}-2}" ;;',
        '        *) REPLY="${1//\\\\/}" ;;',
        "    esac",
        "}",
        "_vincent_at_file()",
        "{",
        "    # file names after the @ of an @file BODY (bash cuts words at @, too)",
        '    local full="${words[cword]}" head file',
        "    [[ $full == @* ]] || return",
        '    head="${full%"${COMP_WORDS[COMP_CWORD]}"}"',
        "    compopt -o filenames 2>/dev/null",
        "    while IFS= read -r file; do",
        '        COMPREPLY+=("${file#"$head"}")',
        '    done < <(compgen -P @ -f -- "${full#@}")',
        "}",
        "_vincent_keys()",
        "{",
        "    # The keys bound on the exchange (vincent services --keys, with the broker,",
        "    # exchange, context and management API given on the line): nothing when that",
        f"    # fails or takes more than VINCENT_COMPLETION_TIMEOUT seconds ({KEYS_TIMEOUT}).",
        f'    local exe="${{words[0]}}" limit="${{VINCENT_COMPLETION_TIMEOUT:-{KEYS_TIMEOUT}}}"',
        '    local full="${words[cword]}" w i out key',
        "    local -a globals=() api=()",
        "    [[ $full == -* ]] && return",
        '    command -v "$exe" >/dev/null 2>&1 || exe=vincent',
        "    for ((i = 1; i < ${#words[@]}; i++)); do",
        '        [ "$i" -eq "$cword" ] && continue',
        '        w="${words[i]}"',
        '        case "$w" in',
        "            --) break ;;",
        "            -h|--help) return ;;",
        f"            {'|'.join(chosen)}|{API_OPTION})",
        '                if [ $((i + 1)) -lt ${#words[@]} ] && [ $((i + 1)) -ne "$cword" ]; then',
        '                    _vincent_unquote "${words[i + 1]}"',
        f'                    if [ "$w" = {API_OPTION} ]; then api=("$w" "$REPLY")',
        '                    else globals+=("$w" "$REPLY"); fi',
        "                fi",
        "                i=$((i + 1)) ;;",
        f'            {API_OPTION}=*) _vincent_unquote "${{w#*=}}"; api=({API_OPTION} "$REPLY") ;;',
        f'            {assigned}) _vincent_unquote "${{w#*=}}"',
        '                globals+=("${w%%=*}" "$REPLY") ;;',
    ]
    for short in shorts:
        lines.append(f'            {short}?*) _vincent_unquote "${{w#{short}}}"')
        lines.append(f'                globals+=({short} "$REPLY") ;;')
    lines += [
        "        esac",
        "    done",
        "    if command -v timeout >/dev/null 2>&1; then",
        '        out="$(timeout "$limit" "$exe" "${globals[@]}" services --keys "${api[@]}" \\',
        '            2>/dev/null </dev/null)"',
        "    else",
        f'        out="$(sh -c \'{BOUNDED}\' "$limit" \\',
        '            "$exe" "${globals[@]}" services --keys "${api[@]}" 2>/dev/null </dev/null)"',
        "    fi",
        '    local head="${full%"${COMP_WORDS[COMP_CWORD]}"}"',
        "    while IFS= read -r key; do",
        '        [ -n "$key" ] && [[ $key == "$full"* ]] || continue',
        '        printf -v key %q "${key#"$head"}"',
        '        COMPREPLY+=("$key")',
        '    done <<<"$out"',
        "}",
    ]
    return lines


def render_bash(root: Command) -> str:
    """``completions/vincent.bash``: source it, or drop it in bash-completion's directory."""
    global_values = "|".join(root.value_options())
    groups = [c for c in root.subcommands if c.subcommands]
    lines = [f"# bash completion for vincent: {HEADER}"]
    lines += _bash_helpers(root)
    lines += [
        "_vincent()",
        "{",
        '    local cur prev cmd="" sub="" w i=1 start=1 pos words cword',
        "    COMPREPLY=()",
        "    _vincent_words",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${words[cword-1]}"',
        '    while [ "$i" -lt "$cword" ]; do',
        '        w="${words[i]}"',
        '        if [ -z "$cmd" ]; then',
        '            case "$w" in',
        f"                {global_values}) i=$((i + 1)) ;;",
        "                -*) ;;",
        '                *) cmd="$w" start=$((i + 1)) ;;',
        "            esac",
    ]
    if groups:
        names = "|".join(g.name for g in groups)
        lines += [
            '        elif [ -z "$sub" ]; then',
            '            case "$cmd:$w" in',
            f"                {'|'.join(f'{g.name}:-*' for g in groups)}) ;;",
            f'                {names.replace("|", ":*|")}:*) sub="$w" start=$((i + 1)) ;;',
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
