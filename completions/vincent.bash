# bash completion for vincent: generated from the CLI by `python -m vincent_cli.completions`; do not edit
_vincent_words()
{
    # COMP_WORDS is cut at COMP_WORDBREAKS (amqp://h:5672 is 5 words): join again
    # what has no blank between it on the line, into words and cword
    local line="$COMP_LINE" rest w i
    words=() cword=0
    if [ -z "$line" ]; then
        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
        return
    fi
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        w="${COMP_WORDS[i]}"
        rest="${line#"${line%%[![:space:]]*}"}"
        if [ "$i" -gt 0 ] && [ "${#rest}" -eq "${#line}" ]; then
            words[${#words[@]}-1]+="$w"
        else
            words+=("$w")
        fi
        line="${rest#"$w"}"
        [ "$i" -eq "$COMP_CWORD" ] && cword=$((${#words[@]} - 1))
    done
}
_vincent_position()
{
    # pos: which argument of the (sub)command the word being completed is (1, 2...);
    # $@: the options of the (sub)command that take a value
    local i w o value=0 rest=0
    pos=1
    for ((i = start; i < cword; i++)); do
        w="${words[i]}"
        if [ "$value" = 1 ]; then
            value=0
        elif [ "$rest" = 0 ] && [ "$w" = -- ]; then
            rest=1
        elif [ "$rest" = 0 ] && [[ $w == -?* ]]; then
            for o in "$@"; do [ "$w" = "$o" ] && value=1; done
        else
            pos=$((pos + 1))
        fi
    done
}
_vincent_unquote()
{
    # REPLY: an option's value as typed, without its quotes
    case "$1" in
        \'*\' | \"*\") REPLY="${1:1:${#1}-2}" ;;
        *) REPLY="${1//\\/}" ;;
    esac
}
_vincent_at_file()
{
    # file names after the @ of an @file BODY (bash cuts words at @, too)
    local full="${words[cword]}" head file
    [[ $full == @* ]] || return
    head="${full%"${COMP_WORDS[COMP_CWORD]}"}"
    compopt -o filenames 2>/dev/null
    while IFS= read -r file; do
        COMPREPLY+=("${file#"$head"}")
    done < <(compgen -P @ -f -- "${full#@}")
}
_vincent_keys()
{
    # The keys bound on the exchange (vincent services --keys, with the broker,
    # exchange, context and management API given on the line): nothing when that
    # fails or takes more than VINCENT_COMPLETION_TIMEOUT seconds (2).
    local exe="${words[0]}" limit="${VINCENT_COMPLETION_TIMEOUT:-2}"
    local full="${words[cword]}" w i out key
    local -a globals=() api=()
    [[ $full == -* ]] && return
    command -v "$exe" >/dev/null 2>&1 || exe=vincent
    for ((i = 1; i < ${#words[@]}; i++)); do
        [ "$i" -eq "$cword" ] && continue
        w="${words[i]}"
        case "$w" in
            --) break ;;
            -h|--help) return ;;
            -b|--broker|--exchange|--context|--api)
                if [ $((i + 1)) -lt ${#words[@]} ] && [ $((i + 1)) -ne "$cword" ]; then
                    _vincent_unquote "${words[i + 1]}"
                    if [ "$w" = --api ]; then api=("$w" "$REPLY")
                    else globals+=("$w" "$REPLY"); fi
                fi
                i=$((i + 1)) ;;
            --api=*) _vincent_unquote "${w#*=}"; api=(--api "$REPLY") ;;
            --broker=*|--exchange=*|--context=*) _vincent_unquote "${w#*=}"
                globals+=("${w%%=*}" "$REPLY") ;;
            -b?*) _vincent_unquote "${w#-b}"
                globals+=(-b "$REPLY") ;;
        esac
    done
    if command -v timeout >/dev/null 2>&1; then
        out="$(timeout "$limit" "$exe" "${globals[@]}" services --keys "${api[@]}" \
            2>/dev/null </dev/null)"
    else
        out="$(sh -c '"$@" & p=$!; { sleep "$0"; kill "$p"; } >/dev/null 2>&1 & w=$!; wait "$p"; kill "$w" 2>/dev/null' "$limit" \
            "$exe" "${globals[@]}" services --keys "${api[@]}" 2>/dev/null </dev/null)"
    fi
    local head="${full%"${COMP_WORDS[COMP_CWORD]}"}"
    while IFS= read -r key; do
        [ -n "$key" ] && [[ $key == "$full"* ]] || continue
        printf -v key %q "${key#"$head"}"
        COMPREPLY+=("$key")
    done <<<"$out"
}
_vincent()
{
    local cur prev cmd="" sub="" w i=1 start=1 pos words cword
    COMPREPLY=()
    _vincent_words
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${words[cword-1]}"
    while [ "$i" -lt "$cword" ]; do
        w="${words[i]}"
        if [ -z "$cmd" ]; then
            case "$w" in
                -b|--broker|--exchange|--context|--connect-timeout|--output) i=$((i + 1)) ;;
                -*) ;;
                *) cmd="$w" start=$((i + 1)) ;;
            esac
        elif [ -z "$sub" ]; then
            case "$cmd:$w" in
                dead:-*|completions:-*) ;;
                dead:*|completions:*) sub="$w" start=$((i + 1)) ;;
            esac
        fi
        i=$((i + 1))
    done
    case "$cmd${sub:+ $sub}" in
        "")
            case "$prev" in
                -b|--broker) :; return ;;
                --exchange) :; return ;;
                --context) :; return ;;
                --connect-timeout) :; return ;;
                --output) COMPREPLY=($(compgen -W "json pretty raw" -- "$cur")); return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-b --broker --exchange --context --connect-timeout --output --version -h --help" -- "$cur")) ;;
                *) [ -z "$sub" ] && COMPREPLY=($(compgen -W "cast call listen record replay serve routes asyncapi queues health trace services config console dev dead completions" -- "$cur")) ;;
            esac
            ;;
        "cast")
            case "$prev" in
                --ttl) :; return ;;
                -H|--header) :; return ;;
                -n|--count) :; return ;;
                --rate) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--ttl -H --header -n --count --rate --dry-run --binary -h --help" -- "$cur")) ;;
                *) _vincent_position --ttl -H --header -n --count --rate
                   case "$pos" in
                       1) _vincent_keys ;;
                       *) _vincent_at_file ;;
                   esac ;;
            esac
            ;;
        "call")
            case "$prev" in
                -t|--timeout) :; return ;;
                --ttl) :; return ;;
                -H|--header) :; return ;;
                -p|--print) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-t --timeout --ttl -H --header --dry-run --binary -v --verbose -p --print --fail-fast -h --help" -- "$cur")) ;;
                *) _vincent_position -t --timeout --ttl -H --header -p --print
                   case "$pos" in
                       1) _vincent_keys ;;
                       *) _vincent_at_file ;;
                   esac ;;
            esac
            ;;
        "listen")
            case "$prev" in
                -n|--count) :; return ;;
                --timeout) :; return ;;
                --idle-timeout) :; return ;;
                -q|--queue) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-n --count --timeout --idle-timeout -q --queue -h --help" -- "$cur")) ;;
                *) _vincent_position -n --count --timeout --idle-timeout -q --queue
                   case "$pos" in
                       *) _vincent_keys ;;
                   esac ;;
            esac
            ;;
        "record")
            case "$prev" in
                -o|--output-file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
                -n|--count) :; return ;;
                --timeout) :; return ;;
                --idle-timeout) :; return ;;
                -q|--queue) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-o --output-file -a --append -n --count --timeout --idle-timeout -q --queue -h --help" -- "$cur")) ;;
                *) _vincent_position -o --output-file -n --count --timeout --idle-timeout -q --queue
                   case "$pos" in
                       *) _vincent_keys ;;
                   esac ;;
            esac
            ;;
        "replay")
            case "$prev" in
                --rate) :; return ;;
                --key-map) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--rate --timing --key-map --keep-exchange -h --help" -- "$cur")) ;;
                *) _vincent_position --rate --key-map
                   case "$pos" in
                       1) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
                       *) : ;;
                   esac ;;
            esac
            ;;
        "serve")
            case "$prev" in
                -w|--workers) :; return ;;
                --reload-dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
                -c|--concurrency) :; return ;;
                --log-level) COMPREPLY=($(compgen -W "debug info warning error" -- "$cur")); return ;;
                --grace) :; return ;;
                --log-format) COMPREPLY=($(compgen -W "auto rich plain json" -- "$cur")); return ;;
                --metrics-port) :; return ;;
                --metrics-host) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-w --workers --reload --reload-dir -c --concurrency --log-level --grace --log-format --metrics-port --metrics-host -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "routes")
            case "$prev" in
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "asyncapi")
            case "$prev" in
                -o|--output-file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
                --format) COMPREPLY=($(compgen -W "yaml json" -- "$cur")); return ;;
                --title) :; return ;;
                --app-version) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-o --output-file --format --title --app-version -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "queues")
            case "$prev" in
                --app) :; return ;;
                --api) :; return ;;
                --interval) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--app --api --watch --interval -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "health")
            case "$prev" in
                --timeout) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--timeout --allow-blocked -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "trace")
            case "$prev" in
                -n|--count) :; return ;;
                --timeout) :; return ;;
                --idle-timeout) :; return ;;
                --api) :; return ;;
                --max-pending) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-n --count --timeout --idle-timeout --enable --disable-on-exit --api --max-pending -h --help" -- "$cur")) ;;
                *) _vincent_position -n --count --timeout --idle-timeout --api --max-pending
                   case "$pos" in
                       *) _vincent_keys ;;
                   esac ;;
            esac
            ;;
        "services")
            case "$prev" in
                --app) :; return ;;
                --api) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--app --api --keys -h --help" -- "$cur")) ;;
                *) _vincent_position --app --api
                   case "$pos" in
                       1) _vincent_keys ;;
                       *) : ;;
                   esac ;;
            esac
            ;;
        "config")
            case "$prev" in
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "console")
            case "$prev" in
                --app) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--app -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "dev")
            case "$prev" in
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "dead")
            case "$prev" in
                -q|--queue) :; return ;;
                -n|--count) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-q --queue -n --count -h --help" -- "$cur")) ;;
                *) [ -z "$sub" ] && COMPREPLY=($(compgen -W "list replay purge" -- "$cur")) ;;
            esac
            ;;
        "dead list")
            case "$prev" in
                -q|--queue) :; return ;;
                -n|--count) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-q --queue -n --count -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "dead replay")
            case "$prev" in
                -q|--queue) :; return ;;
                -k|--key) _vincent_keys; return ;;
                -n|--count) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-q --queue -k --key -n --count -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "dead purge")
            case "$prev" in
                -q|--queue) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-q --queue -y --yes -h --help" -- "$cur")) ;;
                *) : ;;
            esac
            ;;
        "completions")
            case "$prev" in
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
                *) [ -z "$sub" ] && COMPREPLY=($(compgen -W "install show" -- "$cur")) ;;
            esac
            ;;
        "completions install")
            case "$prev" in
                --dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--dir -h --help" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
            esac
            ;;
        "completions show")
            case "$prev" in
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
            esac
            ;;
    esac
}
complete -F _vincent vincent
