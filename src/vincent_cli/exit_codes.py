"""Exit codes, and the one table that maps failures to them.

==== =========================================================================
code meaning
==== =========================================================================
0    ok
1    the remote handler raised (``RemoteError``) or every consumer rejected it
2    usage or bad input: unknown option, bad JSON, unreadable file, bad MODULE:OBJ,
     bad configuration
3    timeout: no reply in time, or ``listen --timeout`` received nothing
4    no route: nothing is bound to the key
5    cannot connect or authenticate, or the connection dropped
6    unhealthy (``vincent health``): a queue of the app is missing or has no consumer
130  interrupted (Ctrl-C)
==== =========================================================================

Commands raise; :func:`exit_code_for` and :func:`describe` are the only places that
turn an exception into a code and a message (``vincent_cli.main.run`` calls them).
"""

from __future__ import annotations

__all__ = [
    "CONNECTION",
    "INTERRUPTED",
    "NO_ROUTE",
    "OK",
    "REMOTE_ERROR",
    "TIMEOUT",
    "UNHEALTHY",
    "USAGE",
    "CommandError",
    "describe",
    "exit_code_for",
]

OK = 0
REMOTE_ERROR = 1
USAGE = 2
TIMEOUT = 3
NO_ROUTE = 4
CONNECTION = 5
UNHEALTHY = 6
INTERRUPTED = 130

CONNECTION_HINT = (
    "hint: pass --broker URL or set VINCENT_BROKER_URL; "
    "`make demo` starts a local broker and prints its URL"
)


class CommandError(Exception):
    """An expected failure a command reports with a one-line message and an exit code.

    ::

        raise CommandError("cannot read @body.json: No such file or directory")
    """

    def __init__(self, message: str, *, code: int = USAGE, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


def _table() -> tuple[tuple[type[BaseException], int], ...]:
    # Imported on demand: `vincent --help` must not pay for vincent_core. By the time a
    # vincent_core error exists, the module is loaded anyway. Order matters: the first
    # matching class wins (CallTimeout is also a TimeoutError, AuthenticationFailed a
    # ConnectionFailed).
    from vincent_core import errors

    return (
        (errors.RemoteError, REMOTE_ERROR),
        (errors.Rejected, REMOTE_ERROR),
        (errors.CallTimeout, TIMEOUT),
        (errors.NoRoute, NO_ROUTE),
        (errors.ConnectionFailed, CONNECTION),
        (errors.ConnectionLost, CONNECTION),
        (errors.ConfigurationError, USAGE),
        (errors.EncodeError, USAGE),
        (errors.PublishFailed, REMOTE_ERROR),
        (errors.VincentError, REMOTE_ERROR),
        (TimeoutError, TIMEOUT),
        (KeyboardInterrupt, INTERRUPTED),
    )


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code for an expected failure, or ``None`` for a bug (show a traceback)."""
    if isinstance(exc, CommandError):
        return exc.code
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    for kind, code in _table():
        if isinstance(exc, kind):
            return code
    return None


def describe(exc: BaseException) -> str:
    """What to print on stderr for an expected failure (without the ``vincent:`` prefix)."""
    if isinstance(exc, CommandError):
        return f"{exc.message}\n{exc.hint}" if exc.hint else exc.message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    from vincent_core import errors

    if isinstance(exc, errors.InvalidMessage):  # the fields, one per line
        return str(exc)
    if isinstance(exc, errors.RemoteError):
        return f"the remote handler raised {exc}"
    if isinstance(exc, errors.AuthenticationFailed):
        return f"{exc}\nhint: the user or password in the broker URL is wrong"
    if isinstance(exc, errors.ConnectionFailed | errors.ConnectionLost):
        return f"{exc}\n{CONNECTION_HINT}"
    if isinstance(exc, errors.CallTimeout | TimeoutError):
        return str(exc) or "timed out"
    return str(exc) or type(exc).__name__
