"""The developer console: an interactive REPL that tails, casts, calls and replays.

The pieces, each with one job:

- :mod:`.app`: the entry points ``run_console`` and ``run_dev`` (connect, run an app
  in-process, pick the interactive or the line-based mode).
- :mod:`.repl`: the read-eval-print loops (prompt_toolkit, or lines from stdin) and
  Ctrl-C handling.
- :mod:`.grammar` and :mod:`.parser`: the commands and how a typed line becomes one
  (pure functions).
- :mod:`.commands`: executing a parsed command; :mod:`.editing` for ``edit N``.
- :mod:`.session`: what the console remembers (numbered history, taps, counters).
- :mod:`.filtering`: ``filter EXPR``, a small expression language over history entries.
- :mod:`.outbox`: sending from the console and showing what became of each message.
- :mod:`.sending` and :mod:`.watch`: exact-envelope casts and calls, and taps.
- :mod:`.suggest`: "did you mean" for commands, options and keys; ``dead`` goes through
  :mod:`vincent_cli.deadletters`, shared with ``vincent dead``.
- :mod:`.render`, :mod:`.toolbar`, :mod:`.completer`, :mod:`.lexer`, :mod:`.prompt`:
  what the user sees and types.
"""
