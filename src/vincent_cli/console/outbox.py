"""Sending from the console: record the message, send it, show what became of it.

::

    outbox = Outbox(Sender(client), session, screen)
    entry = await outbox.send(envelope)     # a call when the envelope has reply_to
    entry.outcome                           # "sent", "ok", "error", "no route", ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from vincent_cli.console import render
from vincent_cli.console.screen import Screen
from vincent_cli.console.sending import Sender
from vincent_cli.console.session import Entry, Outcome, Session
from vincent_cli.console.suggest import nearest_key
from vincent_core.errors import CallTimeout, NoRoute, Rejected, RemoteError, VincentError
from vincent_core.wire.envelope import Envelope
from vincent_core.wire.replies import read_reply
from vincent_core.wire.routing import topic_matches

__all__ = ["DEFAULT_TIMEOUT", "Outbox"]

#: seconds a call waits for its reply when neither --timeout nor an expiration says
DEFAULT_TIMEOUT = 10.0
#: after how long a send still waiting says so (and how to stop waiting)
WAIT_NOTE = 1.0


class Outbox:
    """Sends envelopes for the console and reports their outcome on the screen.

    ``listener_keys``, when given, are all the keys bound on the broker besides the
    console's taps (``vincent dev``: the broker and the app are in this process).
    """

    def __init__(
        self,
        sender: Sender,
        session: Session,
        screen: Screen,
        *,
        listener_keys: list[str] | None = None,
        on_failure: Callable[[Entry, BaseException | None], None] | None = None,
    ) -> None:
        self.sender = sender
        self.session = session
        self.screen = screen
        self.listener_keys = listener_keys
        #: told of each message that did not get where it was sent (the error, if any)
        self.on_failure = on_failure or (lambda entry, error: None)

    async def send(self, envelope: Envelope, *, source: int | None = None) -> Entry:
        """Send ``envelope`` (a call when it has ``reply_to``), record and show the outcome.

        The message is shown as it goes, before any tapped copy of it; what became of it
        (the reply, an error, no route) follows on its own line.
        """
        entry = self.session.record(envelope, "sent", outcome="sending", source=source)
        self.screen.print(render.summary(entry, width=self.screen.width))
        # Silence while a command waits looks like a hang: say what it waits for.
        waiting = asyncio.get_running_loop().call_later(WAIT_NOTE, self._still_waiting, entry)
        try:
            if self._only_tapped(envelope):
                # The tap is a queue, so the broker routes the message there and says
                # nothing; a call would wait for a reply that cannot come.
                await self.sender.cast(envelope)
                entry.outcome = "no route"
                entry.detail = (
                    f"no listener of the app is bound to {envelope.routing_key!r} "
                    "(only the console's tap got it)"
                ) + self._suggest(envelope.routing_key)
                self.screen.print(render.outcome(entry))
                self.on_failure(entry, None)
                return entry
            if envelope.reply_to:
                entry.outcome = "waiting"
                self.screen.invalidate()
                read_reply(await self._request(entry), envelope.routing_key)
                entry.outcome = "ok"
            else:
                await self.sender.cast(envelope)
                entry.outcome = "sent"
        except asyncio.CancelledError:
            entry.outcome = "cancelled"
            raise
        except VincentError as exc:
            entry.outcome, entry.detail = _outcome(exc)
            if isinstance(exc, NoRoute):
                entry.detail += self._suggest(envelope.routing_key)
            self.screen.print(render.outcome(entry))
            if isinstance(exc, RemoteError):
                # The outcome line gave the type and message: the rest follows.
                details = render.remote_details(exc)
                if details is not None:
                    self.screen.print(details)
            self.on_failure(entry, exc)
            return entry
        finally:
            waiting.cancel()
        if entry.reply is not None:
            self.screen.print(render.outcome(entry), render.body_view(entry.reply, preview=True))
        return entry

    def _still_waiting(self, entry: Entry) -> None:
        if self.session.state != "connected":
            doing = f"#{entry.number} waits for the broker ({self.session.state})"
        elif entry.is_call:
            doing = f"waiting for the reply to #{entry.number}"
        else:
            doing = f"waiting for the broker to confirm #{entry.number}"
        self.screen.print(render.note(f"{doing}… (Ctrl-C stops waiting)"))

    async def _request(self, entry: Entry) -> Envelope:
        """Send ``entry`` (a call) and wait for its reply; the reply is kept on the entry."""
        started = time.monotonic()
        try:
            wait = Sender.reply_wait(entry.envelope, DEFAULT_TIMEOUT)
            entry.reply = await self.sender.call(entry.envelope, timeout=wait)
        finally:
            entry.elapsed = time.monotonic() - started
        return entry.reply

    def _suggest(self, key: str) -> str:
        """``; did you mean K?`` with the nearest key the app listens to or traffic used."""
        app_keys = [*(self.listener_keys or []), *self.session.app_keys]
        found = nearest_key(key, app_keys) or nearest_key(key, self.session.known_keys())
        return f"; did you mean {found}?" if found else ""

    def _only_tapped(self, envelope: Envelope) -> bool:
        """Whether only the console's own taps can get ``envelope`` (``vincent dev``)."""
        if self.listener_keys is None or not envelope.exchange:
            return False
        return not any(topic_matches(key, envelope.routing_key) for key in self.listener_keys)


def _outcome(exc: VincentError) -> tuple[Outcome, str]:
    """What became of a message, and why in a few words."""
    if isinstance(exc, RemoteError):
        return "error", f"{exc.type}: {exc.message}"
    if isinstance(exc, NoRoute):
        return "no route", f"nothing is bound to {exc.key!r}"
    if isinstance(exc, CallTimeout):
        return "timeout", f"no reply after {exc.timeout:g}s"
    if isinstance(exc, Rejected):
        return "error", str(exc)
    return "failed", str(exc) or type(exc).__name__
