# bash completion for vincent: generated from the CLI by `python -m vincent_cli.completions`; do not edit
_vincent()
{
    local cur prev cmd="" sub="" w i=1
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    while [ "$i" -lt "$COMP_CWORD" ]; do
        w="${COMP_WORDS[i]}"
        if [ -z "$cmd" ]; then
            case "$w" in
                -b|--broker|--exchange|--context|--connect-timeout|--output) i=$((i + 1)) ;;
                -*) ;;
                *) cmd="$w" ;;
            esac
        elif [ -z "$sub" ]; then
            case "$cmd:$w" in
                dead:-*|completions:-*) ;;
                dead:*|completions:*) sub="$w" ;;
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
                *) case "$cur" in @*) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -P @ -f -- "${cur#@}")) ;; esac ;;
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
                *) case "$cur" in @*) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -P @ -f -- "${cur#@}")) ;; esac ;;
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
                *) : ;;
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
                *) : ;;
            esac
            ;;
        "replay")
            case "$prev" in
                --rate) :; return ;;
                --key-map) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--rate --timing --key-map --keep-exchange -h --help" -- "$cur")) ;;
                *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
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
                *) : ;;
            esac
            ;;
        "services")
            case "$prev" in
                --app) :; return ;;
                --api) :; return ;;
            esac
            case "$cur" in
                -*) COMPREPLY=($(compgen -W "--app --api --keys -h --help" -- "$cur")) ;;
                *) : ;;
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
                -k|--key) :; return ;;
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
