"""The prompt and the bottom toolbar: where the console is connected, and what it does.

::

    vincent amqp://guest:***@localhost:5672/ · vincent ›
    ● connected │ taps: file.* audit.# │ seen 12 · sent 3 │ filter: key ~ file.*
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples, fragment_list_to_text

from vincent_cli.console.session import Session
from vincent_cli.output.terminal import terminal_text

__all__ = ["STATES", "bottom_toolbar", "prompt_message", "toolbar_text"]

#: how each connection state looks: (symbol, style class)
STATES: dict[str, tuple[str, str]] = {
    "connected": ("●", "class:state.connected"),
    "connecting": ("◌", "class:state.connecting"),
    "reconnecting": ("◌", "class:state.reconnecting"),
    "closed": ("○", "class:state.closed"),
}


def prompt_message(session: Session) -> StyleAndTextTuples:
    """``vincent <broker, password masked> · <exchange> ›``."""
    return [
        ("class:prompt.name", "vincent "),
        ("class:prompt.broker", terminal_text(session.masked_url)),
        ("class:prompt.separator", " · "),
        ("class:prompt.exchange", session.exchange or '""'),
        ("class:prompt.arrow", " › "),
    ]


def bottom_toolbar(session: Session) -> StyleAndTextTuples:
    """Connection state, taps, counts and the filter in force."""
    symbol, style = STATES.get(session.state, ("?", ""))
    state = session.state
    if state == "reconnecting":
        state = "reconnecting… (broker unreachable)"
    fragments: StyleAndTextTuples = [(style, f" {symbol} {state} ")]
    separator = ("class:toolbar.separator", " │ ")
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


def toolbar_text(session: Session) -> str:
    """The toolbar as plain text (for the line mode's status and for tests)."""
    return fragment_list_to_text(bottom_toolbar(session)).strip()
