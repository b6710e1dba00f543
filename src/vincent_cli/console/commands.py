"""Executing the console's commands.

Every command reports its own failures on the screen and returns: nothing a user types
or a broker does ends the console, only ``exit`` (and Ctrl-D) do.

::

    commands = Commands(client, session, screen)
    keep_going = await commands.run_line("call file.get file=/etc/hostname")
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson

from vincent_cli import args as cli_args
from vincent_cli import records
from vincent_cli.console import render
from vincent_cli.console.conversations import Tracer
from vincent_cli.console.editing import EditFailed, Editor
from vincent_cli.console.filtering import Filter
from vincent_cli.console.grammar import lookup
from vincent_cli.console.outbox import DEFAULT_TIMEOUT, Outbox
from vincent_cli.console.parser import (
    Command,
    UsageError,
    Word,
    parse_line,
    parse_number,
    parse_range,
)
from vincent_cli.console.screen import Screen
from vincent_cli.console.sending import Sender, fresh_copy, with_trace
from vincent_cli.console.services import ServiceView
from vincent_cli.console.session import Entry, Session, decoded
from vincent_cli.console.watch import Watch
from vincent_cli.exit_codes import CommandError
from vincent_core.app import Vincent
from vincent_core.client import Client
from vincent_core.config import DEFAULT_DEAD_LETTER_QUEUE
from vincent_core.errors import RemoteError, VincentError
from vincent_core.transport.base import QueueInfo
from vincent_core.wire.codec import encode_body
from vincent_core.wire.envelope import Envelope, build_call, build_cast
from vincent_core.wire.routing import check_key

__all__ = ["DEFAULT_TIMEOUT", "Commands"]

log = logging.getLogger(__name__)

#: how long leaving waits for the taps to stop
_CLOSE_TIMEOUT = 5.0
#: how long ``queues`` waits for each queue before giving up on it
_INSPECT_TIMEOUT = 5.0


def _no_stdin() -> bytes:
    raise CommandError("BODY - (stdin) does not work in the console: type the JSON or use @FILE")


def _texts(words: tuple[Word, ...] | list[Word]) -> list[str]:
    return [word.text for word in words]


class Commands:
    """Runs parsed lines against a client, keeping the session up to date."""

    def __init__(
        self,
        client: Client,
        session: Session,
        screen: Screen,
        *,
        app: Vincent | None = None,
        editor: Editor | None = None,
        closed_world: bool = False,
    ) -> None:
        self.client = client
        self.session = session
        self.screen = screen
        self.app = app
        self.editor = editor or Editor(screen, ask=None)
        self.sender = Sender(client)
        listener_keys: list[str] | None = None
        if closed_world:
            # In `vincent dev` the broker is in this process: the app's listeners are
            # every binding there is, besides the console's own taps.
            listener_keys = [route.key for route in app.routes()] if app else []
        self.outbox = Outbox(self.sender, session, screen, listener_keys=listener_keys)
        self.watch = Watch(client, self.on_tapped)
        self.tracer = Tracer(client, session, screen)
        self.services = ServiceView(client, session, app)

    # -- taps --------------------------------------------------------------------------

    def on_tapped(self, envelope: Envelope) -> None:
        """A tap delivered a copy: remember it, and show it unless filtered out."""
        entry = self.session.record(envelope, "seen")
        if self.session.filter.matches(entry):
            self.screen.print(render.summary(entry, width=self.screen.width))
        self.screen.invalidate()

    # -- running lines -------------------------------------------------------------------

    async def run_line(self, line: str) -> bool:
        """Run one line; ``False`` when it was ``exit``. Reports every failure itself."""
        try:
            command = parse_line(line)
            if command is None:
                return True
            if command.name == "exit":
                return False
            await getattr(self, f"_{command.name}")(command)
        except (UsageError, CommandError) as exc:
            self.screen.print(render.failure(str(exc)))
        except RemoteError as exc:
            self.screen.print(render.remote_error(exc))
        except (VincentError, OSError) as exc:
            self.screen.print(render.failure(str(exc) or type(exc).__name__))
        except Exception as exc:
            # A bug in the console or a library below it: say so in one line, keep going.
            log.debug("%r failed", line, exc_info=True)
            self.screen.print(render.failure(f"unexpected {type(exc).__name__}: {exc}"))
        finally:
            self.screen.invalidate()
        return True

    async def close(self) -> None:
        """Stop the taps. Leaving must not hang while the broker is away: the tap's queue
        is exclusive, it goes when the connection does."""
        try:
            await asyncio.wait_for(self.services.close(), _CLOSE_TIMEOUT)
            await asyncio.wait_for(self.tracer.close(), _CLOSE_TIMEOUT)
            await asyncio.wait_for(self.watch.close(), _CLOSE_TIMEOUT)
        except (VincentError, TimeoutError) as exc:
            self.screen.print(render.note(f"taps not stopped cleanly: {exc or 'no broker'}"))

    # -- sending -----------------------------------------------------------------------

    def _body(self, words: tuple[Word, ...] | list[Word]) -> Any:
        return cli_args.build_body(_texts(words), read_stdin=_no_stdin, cwd=Path.cwd())

    async def _cast(self, command: Command) -> None:
        key, rest = check_key(command.args[0].text), command.args[1:]
        headers = cli_args.parse_headers(command.options.get("--header", []))
        envelope = build_cast(
            self.client.exchange,
            key,
            self._body(rest),
            ttl=command.number("--ttl"),
            headers=with_trace(headers),
        )
        await self.send(envelope)

    async def _call(self, command: Command) -> None:
        key, rest = check_key(command.args[0].text), command.args[1:]
        headers = cli_args.parse_headers(command.options.get("--header", []))
        timeout = command.number("--timeout")
        envelope = build_call(
            self.client.exchange,
            key,
            self._body(rest),
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            reply_to=await self.sender.reply_to(),
            ttl=command.number("--ttl"),
            headers=with_trace(headers),
        )
        await self.send(envelope)

    async def send(self, envelope: Envelope, *, source: int | None = None) -> Entry:
        """Send ``envelope`` and show what became of it (see :class:`Outbox`)."""
        return await self.outbox.send(envelope, source=source)

    def _entry(self, word: Word) -> Entry:
        number = parse_number(word.text)
        entry = self.session.history.get(number)
        if entry is None:
            last = len(self.session.history)
            have = f"1-{last}" if last else "none yet"
            raise UsageError(f"there is no message #{number} (history: {have})")
        return entry

    async def _replay(self, command: Command) -> None:
        entry = self._entry(command.args[0])
        envelope = entry.envelope
        changes: dict[str, Any] = {}
        items = _texts(command.args[1:])
        if items:
            body = decoded(envelope)
            if not isinstance(body, dict):
                raise UsageError(f"#{entry.number} has no JSON object body to change fields of")
            for item in map(cli_args.parse_item, items):
                body[item.name] = item.value
            changes["body"], content_type = encode_body(body)
            changes["content_type"] = envelope.content_type or content_type
        key = command.option("--key")
        if key is not None:
            changes["routing_key"] = check_key(key)
        await self._resend(envelope, command.number("--timeout"), entry.number, changes)

    async def _resend(
        self, envelope: Envelope, timeout: float | None, source: int, changes: dict[str, Any]
    ) -> None:
        reply_to = await self.sender.reply_to() if envelope.reply_to else None
        copy = fresh_copy(
            envelope, exchange=self.client.exchange, reply_to=reply_to, ttl=timeout, **changes
        )
        await self.send(copy, source=source)

    async def _edit(self, command: Command) -> None:
        entry = self._entry(command.args[0])
        text = orjson.dumps(
            records.to_record(entry.envelope, entry.at), option=orjson.OPT_INDENT_2
        ).decode()
        try:
            edited = await self.editor.edit(text + "\n")
        except EditFailed as exc:
            raise UsageError(str(exc)) from None
        if edited is None:
            self.screen.print(render.note("edit abandoned: nothing sent"))
            return
        try:
            record = records.parse_record(cli_args.parse_json(edited, "the edited message"))
        except records.RecordError as exc:
            raise UsageError(f"the edited message is not a record: {exc}") from None
        await self._resend(record.envelope, command.number("--timeout"), entry.number, {})

    # -- taps --------------------------------------------------------------------------

    async def _tail(self, command: Command) -> None:
        if not command.args:
            taps = ", ".join(self.watch.patterns) or "none (tail PATTERN... to start one)"
            self.screen.print(render.note(f"taps: {taps}"))
            return
        added = await self.watch.add(_texts(command.args))
        self.session.taps = list(self.watch.patterns)
        if added:
            self.screen.print(
                render.note(f"tapping {', '.join(added)} (copies: workers still get theirs)")
            )
        await self.tracer.start()  # replies under their calls, when the firehose is on
        self.services.prefetch()  # served keys for completion

    async def _untail(self, command: Command) -> None:
        removed = await self.watch.remove(_texts(command.args) if command.args else None)
        self.session.taps = list(self.watch.patterns)
        self.screen.print(render.note(f"stopped {', '.join(removed) or 'nothing'}"))

    # -- looking at history ----------------------------------------------------------------

    async def _history(self, command: Command) -> None:
        words = _texts(command.args)
        count = int(words.pop(0)) if words and words[0].isdigit() else None
        if len(words) > 1:
            raise UsageError("usage: history [N] [PATTERN]")
        entries = self.session.history.last(None, words[0] if words else None)
        entries = [e for e in entries if self.session.filter.matches(e)]
        if count is not None:
            entries = entries[max(0, len(entries) - count) :]
        if not entries:
            nothing = "no message matches" if self.session.history else "no messages yet"
            self.screen.print(render.note(nothing))
        self.screen.print(*(render.summary(entry, width=self.screen.width) for entry in entries))

    async def _show(self, command: Command) -> None:
        self.screen.print(render.detail(self._entry(command.args[0]), width=self.screen.width))

    async def _filter(self, command: Command) -> None:
        words = _texts(command.args)
        if words in (["off"], ["-"]):
            self.session.filter = Filter()
        elif words:
            self.session.filter = Filter.parse(words)
        self.screen.print(render.note(f"filter: {self.session.filter.describe()}"))

    # -- files -------------------------------------------------------------------------

    async def _save(self, command: Command) -> None:
        path = _user_path(command.args[0].text)
        history = self.session.history
        if len(command.args) > 1:
            entries = history.select(parse_range(command.args[1].text, len(history)))
        else:
            entries = list(history)
        if not entries:
            raise UsageError("nothing to save")
        data = b"".join(records.dump_record(e.envelope, e.at) + b"\n" for e in entries)
        try:
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        numbers = f"#{entries[0].number}-#{entries[-1].number}"
        self.screen.print(render.note(f"saved {len(entries)} message(s) ({numbers}) to {path}"))

    async def _load(self, command: Command) -> None:
        path = _user_path(command.args[0].text)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        loaded = records.read_records(data.splitlines(), str(path))
        for record in loaded:
            entry = self.session.record(record.envelope, "loaded", at=record.ts)
            self.screen.print(render.summary(entry, width=self.screen.width))
        self.screen.print(render.note(f"loaded {len(loaded)} message(s) from {path}"))

    # -- the broker and the app ------------------------------------------------------------

    def _known_queues(self) -> list[str]:
        names = [self.app.dead_letter_queue if self.app else DEFAULT_DEAD_LETTER_QUEUE]
        if self.app is not None:
            names += [li.queue_name() for li in self.app.listeners if li.route_to != "all"]
        names += [key for key in self.session.known_keys() if "*" not in key and "#" not in key]
        return list(dict.fromkeys(names))

    async def _queues(self, command: Command) -> None:
        asked = _texts(command.args)
        infos: list[QueueInfo] = []
        for name in asked or self._known_queues():
            try:
                info = await asyncio.wait_for(self.client.queue_info(name), _INSPECT_TIMEOUT)
            except TimeoutError:
                self.screen.print(render.failure(f"queue {name!r}: no answer in time"))
                continue
            if info is not None:
                infos.append(info)
            elif asked:
                self.screen.print(render.failure(f"no queue named {name!r}"))
        if infos:
            self.screen.print(render.queues_table(infos))
        elif not asked:
            self.screen.print(render.note("no known queue exists yet"))

    async def _ls(self, command: Command) -> None:
        self.screen.print(
            *await self.services.listing(_texts(command.args)[0] if command.args else None)
        )

    async def _desc(self, command: Command) -> None:
        found = await self.services.description(command.args[0].text)
        if found is None:
            raise UsageError(f"nothing serves {command.args[0].text!r} (ls lists what does)")
        self.screen.print(found)

    async def _routes(self, command: Command) -> None:
        if self.app is None:
            self.screen.print(render.note("no app: start with --app MODULE:OBJ to see routes"))
            return
        self.screen.print(render.routes_table(self.app.routes()))

    # -- the rest ------------------------------------------------------------------------

    async def _clear(self, command: Command) -> None:
        self.screen.clear()

    async def _help(self, command: Command) -> None:
        if not command.args:
            self.screen.print(render.help_overview())
            return
        spec = lookup(command.args[0].text)
        if spec is None:
            raise UsageError(f"no command {command.args[0].text!r}: type help for the list")
        self.screen.print(render.help_command(spec))


def _user_path(text: str) -> Path:
    return Path(text).expanduser()
