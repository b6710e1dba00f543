"""The prompt and the bottom toolbar: where the console is connected, and what it does.

The prompt stays short, so that a command fits on one row of a 72-column terminal; the
broker and the exchange are in the banner and the toolbar::

    vincent ›
    ● connected │ amqp://guest:***@localhost:5672/ · vincent │ taps: file.* │ seen 12 · sent 3

On a narrow terminal the toolbar gives the broker its host only, then nothing.
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples, fragment_list_to_text

from vincent_cli.console.session import Session
from vincent_cli.output.terminal import terminal_text

__all__ = ["STATES", "bottom_toolbar", "prompt_message", "short_broker", "toolbar_text"]

#: the default exchange, which the prompt does not name
_DEFAULT_EXCHANGE = "vincent"
#: the longest exchange name the prompt shows whole
_PROMPT_EXCHANGE = 16

#: how each connection state looks: (symbol, style class)
STATES: dict[str, tuple[str, str]] = {
    "connected": ("●", "class:state.connected"),
    "blocked": ("◍", "class:state.reconnecting"),  # resource alarm: publishes wait
    "connecting": ("◌", "class:state.connecting"),
    "reconnecting": ("◌", "class:state.reconnecting"),
    "closed": ("○", "class:state.closed"),
}


def prompt_message(session: Session) -> StyleAndTextTuples:
    """``vincent ›``, or ``vincent:<exchange> ›`` on another exchange than the default."""
    fragments: StyleAndTextTuples = [("class:prompt.name", "vincent")]
    if session.exchange != _DEFAULT_EXCHANGE:
        exchange = terminal_text(session.exchange) or '""'
        if len(exchange) > _PROMPT_EXCHANGE:
            exchange = exchange[: _PROMPT_EXCHANGE - 1] + "…"
        fragments += [("class:prompt.separator", ":"), ("class:prompt.exchange", exchange)]
    fragments.append(("class:prompt.arrow", " › "))
    return fragments


def short_broker(masked_url: str) -> str:
    """The broker's host and port (``127.0.0.1:5672``), for a narrow toolbar."""
    rest = masked_url.partition("://")[2]
    return rest.rpartition("@")[2].partition("/")[0] or masked_url


def _where(session: Session, room: int | None) -> str:
    """The broker and exchange, as long as ``room`` allows."""
    exchange = terminal_text(session.exchange) or '""'
    url = terminal_text(session.masked_url)
    full = f"{url} · {exchange}"
    if room is None or len(full) <= room:
        return full
    short = f"{short_broker(url)} · {exchange}"
    return short if len(short) <= room else ""


def bottom_toolbar(session: Session, width: int | None = None) -> StyleAndTextTuples:
    """Connection state, broker and exchange, taps, counts and the filter in force.

    With ``width`` (the terminal's), the broker is shortened to its host, or left out,
    so that the rest still shows.
    """
    symbol, style = STATES.get(session.state, ("?", ""))
    state = session.state
    if state == "reconnecting":
        state = "reconnecting… (broker unreachable)"
    fragments: StyleAndTextTuples = [(style, f" {symbol} {state} ")]
    separator = ("class:toolbar.separator", " │ ")
    rest = _after_broker(session, separator)
    if session.masked_url:
        used = len(fragment_list_to_text(fragments + rest)) + 3
        where = _where(session, None if width is None else width - used - 1)
        if where:
            fragments += [separator, ("class:toolbar.broker", where)]
    return fragments + rest


def _after_broker(session: Session, separator: tuple[str, str]) -> StyleAndTextTuples:
    fragments: StyleAndTextTuples = []
    taps = terminal_text(" ".join(session.taps)) if session.taps else "none"
    fragments += [separator, ("class:toolbar.label", "taps: "), ("class:toolbar.taps", taps)]
    fragments += [
        separator,
        ("class:toolbar.label", "seen "),
        ("class:toolbar.count", str(session.seen)),
        ("class:toolbar.label", " · sent "),
        ("class:toolbar.count", str(session.sent)),
    ]
    if session.filter:
        fragments += [
            separator,
            ("class:toolbar.label", "filter: "),
            ("class:toolbar.filter", terminal_text(session.filter.describe())),
        ]
    return fragments


def toolbar_text(session: Session, width: int | None = None) -> str:
    """The toolbar as plain text (for the line mode's status and for tests)."""
    return fragment_list_to_text(bottom_toolbar(session, width)).strip()
