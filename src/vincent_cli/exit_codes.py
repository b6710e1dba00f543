"""Exit codes, and the one table that maps failures to them.

==== =========================================================================
code meaning
==== =========================================================================
0    ok
1    the remote handler raised (``RemoteError``) or every consumer rejected it, or
     the broker refused the publish (``PublishFailed``)
2    usage or bad input: unknown option, bad JSON, unreadable file, bad MODULE:OBJ,
     bad configuration, a body over the size limit (``MessageTooLarge``)
3    timeout: no reply in time, or ``listen --timeout`` received nothing
4    no route: nothing is bound to the key
5    cannot connect or authenticate, or the connection dropped
6    unhealthy (``vincent health``): a queue of the app is missing or has no consumer,
     or the broker blocks publishing (a resource alarm)
130  interrupted (Ctrl-C)
==== =========================================================================

Commands raise; :func:`exit_code_for` and :func:`describe` are the only places that
turn an exception into a code and a message, and :func:`report` prints it (both the
typer commands and the one-shot ``cast``/``call`` call it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vincent_cli.output.emit import Output

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
    "report",
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
    "hint: pass --broker URL or set VINCENT_BROKER_URL; no broker? "
    "`docker run -d -p 5672:5672 rabbitmq:3` or `apt-get install rabbitmq-server` starts "
    "one (from a clone: `make demo`), and `vincent dev` needs none"
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
        (errors.MessageTooLarge, USAGE),
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
    if isinstance(exc, errors.ConnectionFailed) and exc.reply_code:
        return str(exc)  # the broker answered and refused: where it is, is not the issue
    if isinstance(exc, errors.ConnectionFailed | errors.ConnectionLost):
        return f"{exc}\n{CONNECTION_HINT}"
    if isinstance(exc, errors.CallTimeout | TimeoutError):
        return str(exc) or "timed out"
    return str(exc) or type(exc).__name__


def report(exc: BaseException, output: Output) -> int:
    """Print an expected failure as one line (plus hints) and return its exit code; show
    the traceback of anything unexpected (a bug in vincent) and return 1."""
    from vincent_cli.loading import UserCodeError
    from vincent_core.config import mask_text

    code = exit_code_for(exc)
    if code is None:
        import traceback

        output.stderr.write(mask_text("".join(traceback.format_exception(exc))))
        output.error(f"unexpected {type(exc).__name__}: this is a bug in vincent, please report it")
        return REMOTE_ERROR
    if isinstance(exc, UserCodeError):
        output.stderr.write(mask_text(exc.details) + "\n")
    output.error(describe(exc))
    return code
