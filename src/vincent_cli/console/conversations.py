"""The console's ``tail`` with whole conversations: replies under the calls they answer.

A tap shows copies of requests; their replies travel through direct reply-to, which no
tap sees. When RabbitMQ's firehose is on (and always on ``memory://``), a
:class:`Tracer` pairs each tapped call with its reply: the call's history entry gets the
reply, its outcome and latency (so ``show N`` shows both halves and the history line its
outcome), and a line appears under the call, indented by how deep in its trace chain it
sits. With tracing off the console says once how to turn it on.

::

    tracer = Tracer(client, session, screen)
    await tracer.start()          # on the first ``tail PATTERN``
    ...
    await tracer.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from rich.text import Text

from vincent_cli.console import render
from vincent_cli.console.screen import Screen
from vincent_cli.console.session import Entry, Outcome, Session
from vincent_cli.firehose import FirehoseTap
from vincent_cli.output.conversations import error_of, safe_text
from vincent_core.client import Client
from vincent_core.errors import VincentError
from vincent_core.wire.conversation import Conversation, Conversations
from vincent_core.wire.firehose import Published

__all__ = ["OFF_NOTE", "Tracer", "reply_line"]

OFF_NOTE = (
    "tracing is off: replies to calls made elsewhere are not shown "
    "(turn it on: rabbitmqctl trace_on -p VHOST, or vincent trace --enable)"
)
#: how long the probe's firehose copy is waited for when the console starts tracing
_PROBE_WAIT = 2.0
#: a reply may come before the tap's copy of its call: look again this often, this long
_RETRY_EVERY = 0.1
_RETRIES = 20
_STYLE = {"ok": "green", "error": "bold red", "timeout": "yellow"}
_OUTCOMES: dict[str, Outcome] = {"ok": "ok", "error": "error", "timeout": "timeout"}


def reply_line(entry: Entry, conversation: Conversation) -> Text:
    """``       ↳ #12 ok 3 ms {"n": 1}``, indented one step per caller in the chain."""
    depth = len(conversation.trace.chain)
    line = Text("     " + "  " * depth + "↳ ", style="bright_black")
    line.append(f"#{entry.number} ", style="bold")
    line.append(entry.outcome or "?", style=_STYLE.get(entry.outcome or "", ""))
    if entry.elapsed is not None:
        line.append(f" {entry.elapsed * 1000:.1f} ms", style="bright_black")
    if entry.detail:
        line.append(f": {safe_text(entry.detail)}", style="red")
    elif entry.reply is not None:
        line.append(" ")
        line.append_text(render.snippet(entry.reply, 60))
    return line


class Tracer:
    """Pairs tapped calls with their replies from the firehose (see the module)."""

    def __init__(self, client: Client, session: Session, screen: Screen) -> None:
        self.session = session
        self.screen = screen
        self.conversations = Conversations(exchange=client.exchange)
        self.tap = FirehoseTap(client, self._on_published)
        #: None until known; then whether the firehose is on
        self.on: bool | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._starting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start pairing (once), in the background: finding out whether tracing is on
        may take a couple of seconds, the prompt does not wait for it."""
        if self._starting is None:
            self._starting = asyncio.create_task(self._start())

    async def _start(self) -> None:
        try:
            self.on = await self.tap.start(probe_wait=_PROBE_WAIT)
        except (VincentError, TimeoutError):
            self.on = False
        if not self.on:
            self.screen.print(render.note(OFF_NOTE))
            self.screen.invalidate()

    async def close(self) -> None:
        """Stop pairing."""
        if self._timer is not None:
            self._timer.cancel()
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await self.tap.close()

    def _on_published(self, published: Published) -> None:
        self._finish(self.conversations.feed(published))
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.conversations.next_deadline()
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, deadline - time.monotonic()), self._expire)

    def _expire(self) -> None:
        self._timer = None
        self._finish(self.conversations.expire(time.monotonic()))
        self._arm()

    def _finish(self, finished: list[Conversation]) -> None:
        for conversation in finished:
            if conversation.kind == "call":
                self._attach(conversation, _RETRIES)

    def _attach(self, conversation: Conversation, retries: int) -> None:
        history = self.session.history
        message_id = conversation.request.envelope.message_id
        if history.by_message_id(message_id, "sent") is not None:
            return  # a call from this console: the console shows its reply itself
        entry = history.by_message_id(message_id, "seen")
        if entry is None:
            if retries > 0:
                asyncio.get_running_loop().call_later(
                    _RETRY_EVERY, self._attach, conversation, retries - 1
                )
            return
        entry.outcome = _OUTCOMES[conversation.status]
        entry.reply = conversation.reply.envelope if conversation.reply else None
        entry.elapsed = conversation.latency
        error = error_of(conversation)
        entry.detail = f"{error[0]}: {error[1]}" if error else ""
        if conversation.status == "timeout":
            entry.detail = "no reply before its expiration"
        if self.session.filter.matches(entry):
            self.screen.print(reply_line(entry, conversation))
        self.screen.invalidate()
