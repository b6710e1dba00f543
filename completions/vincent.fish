# fish completion for vincent: generated from the CLI by `python -m vincent_cli.completions`; do not edit
complete -c vincent -f
function __vincent_position --description 'Is the word being completed argument N (N+: N or after) of the command DEPTH words deep, with these OPTIONS taking a value?'
    string match -q -- '-*' (commandline -ct); and return 1
    set -l takes_value $argv[3..-1] -b --broker --exchange --context --connect-timeout --output
    set -l seen 0; set -l pos 1; set -l value 0; set -l rest 0
    for w in (commandline -opc)[2..-1]
        if test $value = 1
            set value 0
        else if test $rest = 0; and test "$w" = --
            set rest 1
        else if test $rest = 0; and string match -q -- '-?*' $w
            contains -- $w $takes_value; and set value 1
        else if test $seen -lt $argv[2]
            set seen (math $seen + 1)
        else
            set pos (math $pos + 1)
        end
    end
    test $value = 1; and return 1  # an option's value
    if string match -q -- '*+' $argv[1]
        test $pos -ge (string trim -r -c + -- $argv[1])
    else
        test $pos -eq $argv[1]
    end
end
function __vincent_at_file --description 'File names after the @ of an @file BODY'
    set -l word (commandline -ct)
    string match -q -- '@*' $word; or return
    __fish_complete_path (string sub -s 2 -- $word) | string replace -r -- '^' @
end
function __vincent_keys --description 'The keys bound on the exchange (vincent services --keys), nothing after VINCENT_COMPLETION_TIMEOUT seconds (2)'
    string match -q -- '-*' (commandline -ct); and return
    set -l tokens (commandline -opc)
    set -l exe $tokens[1]
    command -q $exe; or set exe vincent
    set -l globals; set -l api; set -l i 2
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        switch $w
            case --
                break
            case -h --help
                return
            case -b --broker --exchange --context --api
                set i (math $i + 1)
                if test $i -le (count $tokens)
                    if test $w = --api
                        set api $w $tokens[$i]
                    else
                        set -a globals $w $tokens[$i]
                    end
                end
            case '--api=*'
                set api --api (string split -m 1 = -- $w)[2]
            case '--broker=*' '--exchange=*' '--context=*'
                set -a globals (string split -m 1 = -- $w)
            case '-b*'
                set -a globals -b (string sub -s 3 -- $w)
        end
        set i (math $i + 1)
    end
    set -l limit 2
    set -q VINCENT_COMPLETION_TIMEOUT; and set limit $VINCENT_COMPLETION_TIMEOUT
    if command -q timeout
        timeout $limit $exe $globals services --keys $api 2>/dev/null </dev/null
    else
        sh -c '"$@" & p=$!; { sleep "$0"; kill "$p"; } >/dev/null 2>&1 & w=$!; wait "$p"; kill "$w" 2>/dev/null' $limit \
            $exe $globals services --keys $api 2>/dev/null </dev/null
    end
end
complete -c vincent -n '__fish_use_subcommand' -s b -l broker -r -f -d 'Broker URL (default: env VINCENT_BROKER_URL, then AMQP_URL, then the…'
complete -c vincent -n '__fish_use_subcommand' -l exchange -r -f -d 'Exchange (default: env VINCENT_EXCHANGE, then the config file, then v…'
complete -c vincent -n '__fish_use_subcommand' -l context -r -f -d 'Use [tool.vincent.contexts.NAME] from pyproject.toml or vincent.toml.'
complete -c vincent -n '__fish_use_subcommand' -l connect-timeout -r -f -d 'Seconds to connect and finish the AMQP handshake (default: env VINCEN…'
complete -c vincent -n '__fish_use_subcommand' -l output -r -f -a 'json pretty raw' -d 'json: one compact line per result; pretty: indented, coloured on a te…'
complete -c vincent -n '__fish_use_subcommand' -l version -d 'Show the version and exit.'
complete -c vincent -n '__fish_use_subcommand' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_use_subcommand' -a cast -d 'Publish a message to KEY; exit 4 if nothing is bound to it.'
complete -c vincent -n '__fish_use_subcommand' -a call -d 'Send a request to KEY and print the reply.'
complete -c vincent -n '__fish_use_subcommand' -a listen -d 'Tap a copy of the messages matching PATTERNs, without taking them fro…'
complete -c vincent -n '__fish_use_subcommand' -a record -d 'Save the messages matching PATTERNs to FILE, one record (JSON line) e…'
complete -c vincent -n '__fish_use_subcommand' -a replay -d 'Cast recorded messages again, in order, each confirmed by the broker.'
complete -c vincent -n '__fish_use_subcommand' -a serve -d 'Run the app\'s listeners until SIGTERM or SIGINT, then stop gracefully.'
complete -c vincent -n '__fish_use_subcommand' -a routes -d 'List the app\'s listeners: key, queue, route_to, handler.'
complete -c vincent -n '__fish_use_subcommand' -a asyncapi -d 'Write the app\'s AsyncAPI 3.0.0 document: a channel per key, an operat…'
complete -c vincent -n '__fish_use_subcommand' -a queues -d 'Queues with their ready messages and consumers.'
complete -c vincent -n '__fish_use_subcommand' -a health -d 'Check the broker (and the app\'s workers); exit 0 when healthy.'
complete -c vincent -n '__fish_use_subcommand' -a trace -d 'Show whole conversations: each call with its reply, status and latenc…'
complete -c vincent -n '__fish_use_subcommand' -a services -d 'What is served on the exchange: each bound key with its queue, depth,…'
complete -c vincent -n '__fish_use_subcommand' -a config -d 'Show the resolved settings and where each came from (password masked).'
complete -c vincent -n '__fish_use_subcommand' -a console -d 'The interactive developer console: cast, call, history, replay, show.'
complete -c vincent -n '__fish_use_subcommand' -a dev -d 'Run the app and the console in one process on memory:// (no broker ne…'
complete -c vincent -n '__fish_use_subcommand' -a dead -d 'Inspect and re-send dead-lettered messages (default: list).'
complete -c vincent -n '__fish_use_subcommand' -a completions -d 'Shell completions for bash, zsh and fish.'
complete -c vincent -n '__fish_seen_subcommand_from cast; and __vincent_position 1 1 --ttl -H --header -n --count --rate' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from cast; and __vincent_position 2+ 1 --ttl -H --header -n --count --rate' -f -a '(__vincent_at_file)'
complete -c vincent -n '__fish_seen_subcommand_from cast' -l ttl -r -f -d 'Seconds the message may wait in a queue.'
complete -c vincent -n '__fish_seen_subcommand_from cast' -s H -l header -r -f -d 'An AMQP header (repeatable).'
complete -c vincent -n '__fish_seen_subcommand_from cast' -s n -l count -r -f -d 'Send the message this many times.'
complete -c vincent -n '__fish_seen_subcommand_from cast' -l rate -r -f -d 'Messages per second with --count.'
complete -c vincent -n '__fish_seen_subcommand_from cast' -l dry-run -d 'Print the exact message (a record line); send nothing.'
complete -c vincent -n '__fish_seen_subcommand_from cast' -l binary -d 'Send a - or @file BODY as raw bytes (application/octet-stream).'
complete -c vincent -n '__fish_seen_subcommand_from cast' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from call; and __vincent_position 1 1 -t --timeout --ttl -H --header -p --print' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from call; and __vincent_position 2+ 1 -t --timeout --ttl -H --header -p --print' -f -a '(__vincent_at_file)'
complete -c vincent -n '__fish_seen_subcommand_from call' -s t -l timeout -r -f -d 'Seconds to wait for the reply.'
complete -c vincent -n '__fish_seen_subcommand_from call' -l ttl -r -f -d 'Seconds the message may wait in a queue.'
complete -c vincent -n '__fish_seen_subcommand_from call' -s H -l header -r -f -d 'An AMQP header (repeatable).'
complete -c vincent -n '__fish_seen_subcommand_from call' -l dry-run -d 'Print the exact message (a record line); send nothing.'
complete -c vincent -n '__fish_seen_subcommand_from call' -l binary -d 'Send a - or @file BODY as raw bytes (application/octet-stream).'
complete -c vincent -n '__fish_seen_subcommand_from call' -s v -l verbose -d 'Also show the request, the reply\'s properties and headers, and the la…'
complete -c vincent -n '__fish_seen_subcommand_from call' -s p -l print -r -f -d 'What to show, httpie style: H request properties and headers, B reque…'
complete -c vincent -n '__fish_seen_subcommand_from call' -l fail-fast -d 'Exit 3 at once, sending nothing, when the key\'s queue has no consumer…'
complete -c vincent -n '__fish_seen_subcommand_from call' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from listen; and __vincent_position 1+ 1 -n --count --timeout --idle-timeout -q --queue' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from listen' -s n -l count -r -f -d 'Stop after this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from listen' -l timeout -r -f -d 'Stop after this many seconds; exit 3 if nothing was received.'
complete -c vincent -n '__fish_seen_subcommand_from listen' -l idle-timeout -r -f -d 'Stop after this many seconds without a message; exit 3 if none came.'
complete -c vincent -n '__fish_seen_subcommand_from listen' -s q -l queue -r -f -d 'Consume this queue instead (takes messages from its workers, acking e…'
complete -c vincent -n '__fish_seen_subcommand_from listen' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from record; and __vincent_position 1+ 1 -o --output-file -n --count --timeout --idle-timeout -q --queue' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from record' -s o -l output-file -r -F -d 'Where to write the records (- for stdout).'
complete -c vincent -n '__fish_seen_subcommand_from record' -s a -l append -d 'Add to FILE.'
complete -c vincent -n '__fish_seen_subcommand_from record' -s n -l count -r -f -d 'Stop after this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from record' -l timeout -r -f -d 'Stop after this many seconds; exit 3 if nothing was received.'
complete -c vincent -n '__fish_seen_subcommand_from record' -l idle-timeout -r -f -d 'Stop after this many seconds without a message; exit 3 if none came.'
complete -c vincent -n '__fish_seen_subcommand_from record' -s q -l queue -r -f -d 'Consume this queue instead (takes messages from its workers, acking e…'
complete -c vincent -n '__fish_seen_subcommand_from record' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from replay; and __vincent_position 1 1 --rate --key-map' -F
complete -c vincent -n '__fish_seen_subcommand_from replay' -l rate -r -f -d 'Messages per second.'
complete -c vincent -n '__fish_seen_subcommand_from replay' -l timing -d 'Keep the recorded spacing between messages.'
complete -c vincent -n '__fish_seen_subcommand_from replay' -l key-map -r -f -d 'Send OLD\'s messages to NEW (repeatable).'
complete -c vincent -n '__fish_seen_subcommand_from replay' -l keep-exchange -d 'Publish to the recorded exchange, not the one in effect.'
complete -c vincent -n '__fish_seen_subcommand_from replay' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -s w -l workers -r -f -d 'Worker processes to run.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l reload -d 'Restart the workers when a Python file changes.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l reload-dir -r -F -d 'Directory to watch with --reload (repeatable; default: the current on…'
complete -c vincent -n '__fish_seen_subcommand_from serve' -s c -l concurrency -r -f -d 'Messages handled at once per process.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l log-level -r -f -a 'debug info warning error' -d 'Logging threshold.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l grace -r -f -d 'Seconds in-flight messages get to finish on stop.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l log-format -r -f -a 'auto rich plain json' -d 'auto: rich on a terminal, plain otherwise; json: one object per line.'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l metrics-port -r -f -d 'Serve Prometheus /metrics and /healthz on PORT (worker i of --workers…'
complete -c vincent -n '__fish_seen_subcommand_from serve' -l metrics-host -r -f -d 'Address for --metrics-port (0.0.0.0: every interface).'
complete -c vincent -n '__fish_seen_subcommand_from serve' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from routes' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from asyncapi' -s o -l output-file -r -F -d 'Write the document to FILE (default: stdout).'
complete -c vincent -n '__fish_seen_subcommand_from asyncapi' -l format -r -f -a 'yaml json' -d 'yaml or json (default: from FILE\'s extension, else yaml).'
complete -c vincent -n '__fish_seen_subcommand_from asyncapi' -l title -r -f -d 'info.title (default: the module name).'
complete -c vincent -n '__fish_seen_subcommand_from asyncapi' -l app-version -r -f -d 'info.version (default: the module\'s __version__, else 0.0.0).'
complete -c vincent -n '__fish_seen_subcommand_from asyncapi' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from queues' -l app -r -f -d 'Also show this app\'s queues.'
complete -c vincent -n '__fish_seen_subcommand_from queues' -l api -r -f -d 'Management API (http://host:15672) to list every queue; env VINCENT_A…'
complete -c vincent -n '__fish_seen_subcommand_from queues' -l watch -d 'Refresh until interrupted.'
complete -c vincent -n '__fish_seen_subcommand_from queues' -l interval -r -f -d 'Seconds between refreshes with --watch.'
complete -c vincent -n '__fish_seen_subcommand_from queues' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from health' -l timeout -r -f -d 'Give up (exit 3) after SECONDS.'
complete -c vincent -n '__fish_seen_subcommand_from health' -l allow-blocked -d 'A broker that blocks publishing (a resource alarm) is reported, exit…'
complete -c vincent -n '__fish_seen_subcommand_from health' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from trace; and __vincent_position 1+ 1 -n --count --timeout --idle-timeout --api --max-pending' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from trace' -s n -l count -r -f -d 'Stop after this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l timeout -r -f -d 'Stop after this many seconds; exit 3 if nothing was received.'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l idle-timeout -r -f -d 'Stop after this many seconds without a message; exit 3 if none came.'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l enable -d 'Turn tracing on for the vhost (management API) first.'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l disable-on-exit -d 'Turn tracing off again when done.'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l api -r -f -d 'Management API (http://host:15672), to check or turn tracing on; env…'
complete -c vincent -n '__fish_seen_subcommand_from trace' -l max-pending -r -f -d 'Calls waiting for their replies at most; past it the oldest is given…'
complete -c vincent -n '__fish_seen_subcommand_from trace' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from services; and __vincent_position 1 1 --app --api' -f -a '(__vincent_keys)'
complete -c vincent -n '__fish_seen_subcommand_from services' -l app -r -f -d 'Join with this app\'s handlers, docstrings, route_to, retries and sche…'
complete -c vincent -n '__fish_seen_subcommand_from services' -l api -r -f -d 'Management API (http://host:15672) to list bindings; env VINCENT_API_…'
complete -c vincent -n '__fish_seen_subcommand_from services' -l keys -d 'Only the bound keys, one per line, for shell completion: nothing (and…'
complete -c vincent -n '__fish_seen_subcommand_from services' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from config' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from console' -l app -r -f -d 'Also run this app in-process.'
complete -c vincent -n '__fish_seen_subcommand_from console' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from dev' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from dead' -s q -l queue -r -f -d 'The dead-letter queue (default: vincent.dead, or dead_letter_queue in…'
complete -c vincent -n '__fish_seen_subcommand_from dead' -s n -l count -r -f -d 'At most this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from dead' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from dead; and not __fish_seen_subcommand_from list replay purge' -a list -d 'Show dead letters: original key, reason, error, attempts, when (nothi…'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from list' -s q -l queue -r -f -d 'The dead-letter queue (default: vincent.dead, or dead_letter_queue in…'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from list' -s n -l count -r -f -d 'At most this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from dead; and not __fish_seen_subcommand_from list replay purge' -a replay -d 'Re-send dead letters to their original exchange and key.'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from replay' -s q -l queue -r -f -d 'The dead-letter queue (default: vincent.dead, or dead_letter_queue in…'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from replay' -s k -l key -r -f -a '(__vincent_keys)' -d 'Only dead letters whose original key matches (topic pattern).'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from replay' -s n -l count -r -f -d 'At most this many messages.'
complete -c vincent -n '__fish_seen_subcommand_from dead; and not __fish_seen_subcommand_from list replay purge' -a purge -d 'Delete every dead letter (asks first on a terminal, unless --yes).'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from purge' -s q -l queue -r -f -d 'The dead-letter queue (default: vincent.dead, or dead_letter_queue in…'
complete -c vincent -n '__fish_seen_subcommand_from dead; and __fish_seen_subcommand_from purge' -s y -l yes -d 'Do not ask for confirmation.'
complete -c vincent -n '__fish_seen_subcommand_from completions' -s h -l help -d 'Show the help and exit.'
complete -c vincent -n '__fish_seen_subcommand_from completions; and not __fish_seen_subcommand_from install show' -a install -d 'Write the completion script for your shell where it loads (no root ne…'
complete -c vincent -n '__fish_seen_subcommand_from completions; and __fish_seen_subcommand_from install; and __vincent_position 1 2 --dir' -f -a 'bash zsh fish'
complete -c vincent -n '__fish_seen_subcommand_from completions; and __fish_seen_subcommand_from install' -l dir -r -F -d 'Write into DIR instead of the shell\'s own place.'
complete -c vincent -n '__fish_seen_subcommand_from completions; and not __fish_seen_subcommand_from install show' -a show -d 'Print the completion script for SHELL (e.g.'
complete -c vincent -n '__fish_seen_subcommand_from completions; and __fish_seen_subcommand_from show; and __vincent_position 1 2' -f -a 'bash zsh fish'
