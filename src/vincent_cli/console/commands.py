"""Executing the console's commands.

Every command reports its own failures on the screen and returns: nothing a user types
or a broker does ends the console, only ``exit`` (and Ctrl-D) do.

::

    commands = Commands(client, session, screen)
    keep_going = await commands.run_line("call file.get file=/etc/hostname")
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from vincent_cli import args as cli_args
from vincent_cli import records
from vincent_cli.commands.dead import dead_summary
from vincent_cli.console import render
from vincent_cli.console.conversations import Tracer
from vincent_cli.console.editing import EditAborted, EditFailed, EditMistake, Editor
from vincent_cli.console.filtering import Filter, check_pattern
from vincent_cli.console.grammar import ALIASES, COMMANDS, lookup
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
from vincent_cli.console.suggest import did_you_mean
from vincent_cli.console.watch import Watch
from vincent_cli.deadletters import DeadLetters
from vincent_cli.exit_codes import NO_ROUTE, REMOTE_ERROR, USAGE, CommandError, exit_code_for
from vincent_core.app import Vincent
from vincent_core.client import Client
from vincent_core.config import DEFAULT_DEAD_LETTER_QUEUE
from vincent_core.errors import RemoteError, VincentError
from vincent_core.transport.base import QueueInfo
from vincent_core.wire.codec import encode_body
from vincent_core.wire.envelope import Envelope, build_call, build_cast
from vincent_core.wire.routing import check_key

__all__ = ["DEFAULT_TIMEOUT", "Commands", "Failure"]

log = logging.getLogger(__name__)

#: how long leaving waits for the taps to stop
_CLOSE_TIMEOUT = 5.0
#: how long ``queues`` waits for each queue before giving up on it
_INSPECT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Failure:
    """A command that failed: the line, why in a few words, the CLI's exit code for it."""

    line: str
    reason: str
    code: int


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
        #: the commands that failed, with the exit code the CLI gives that failure
        self.failures: list[Failure] = []
        self._line = ""
        self.outbox = Outbox(
            self.sender,
            session,
            screen,
            listener_keys=listener_keys,
            on_failure=self._message_failed,
        )
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
        """Run one line; ``False`` when it was ``exit``. Reports every failure itself,
        and files it in :attr:`failures`."""
        self._line = line.strip()
        try:
            command = parse_line(line)
            if command is None:
                return True
            if command.name == "exit":
                return False
            await getattr(self, f"_{command.name}")(command)
        except (UsageError, CommandError) as exc:
            self.screen.print(render.failure(str(exc)))
            self._failed(str(exc), exc.code if isinstance(exc, CommandError) else USAGE)
        except RemoteError as exc:
            self.screen.print(render.remote_error(exc))
            self._failed(f"remote error {exc.type}", REMOTE_ERROR)
        except (VincentError, OSError) as exc:
            message = str(exc) or type(exc).__name__
            self.screen.print(render.failure(message))
            self._failed(message, exit_code_for(exc) or USAGE)
        except Exception as exc:
            # A bug in the console or a library below it: say so in one line, keep going.
            log.debug("%r failed", line, exc_info=True)
            self.screen.print(render.failure(f"unexpected {type(exc).__name__}: {exc}"))
            self._failed(f"unexpected {type(exc).__name__}", REMOTE_ERROR)
        finally:
            self.screen.invalidate()
        return True

    def _failed(self, reason: str, code: int) -> None:
        self.failures.append(Failure(self._line, reason, code))

    def _message_failed(self, entry: Entry, error: BaseException | None) -> None:
        code = NO_ROUTE if error is None else exit_code_for(error) or REMOTE_ERROR
        self._failed(f"#{entry.number} {entry.outcome}", code)

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
            record = await self.editor.edit(text + "\n", parse=_edited_record)
        except EditFailed as exc:
            raise UsageError(str(exc)) from None
        except EditAborted as exc:
            hint = f" (replay {entry.number} sends it as it was)" if exc.unchanged else ""
            self.screen.print(render.note(f"{exc}{hint}"))
            return
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

    async def _dead(self, command: Command) -> None:
        words = _texts(command.args)
        action = words.pop(0) if words else "list"
        if action not in ("list", "replay", "purge") or (words and action != "replay"):
            raise UsageError(f"usage: {COMMANDS['dead'].usage}")
        queue = command.option("--queue") or (
            self.app.dead_letter_queue if self.app else DEFAULT_DEAD_LETTER_QUEUE
        )
        count = _count(command.option("--count"))
        if await self.client.queue_info(queue) is None:
            raise UsageError(f"no queue named {queue!r}: no dead letter yet")
        letters = DeadLetters(self.client)
        if action == "purge":
            purged = await letters.purge(queue)
            self.screen.print(render.note(f"purged {purged} dead letter(s) from {queue}"))
        elif action == "replay":
            pattern = check_pattern(words[0]) if words else None
            done = await letters.replay(queue, pattern=pattern, limit=count)
            self.screen.print(render.note(f"replayed {done.replayed} dead letter(s) from {queue}"))
            for key in dict.fromkeys(done.unrouted):
                self._failed(f"no route for {key!r}", NO_ROUTE)
                self.screen.print(render.failure(f"no route for {key!r}: left in {queue}"))
        else:
            await self._list_dead(letters, queue, count)

    async def _list_dead(self, letters: DeadLetters, queue: str, count: int | None) -> None:
        found = await letters.list(queue, limit=count)
        entries = []
        for letter in found:
            info = dead_summary(letter.dead.headers)
            # The first line: a remote error's message goes on with the remote traceback.
            message = info["error_message"].strip().partition("\n")[0]
            # The class without its module: the message says what matters.
            kind = info["error_type"].rpartition(".")[2]
            error = f"{kind}: {message}".strip(": ")
            entries.append(
                self.session.record(
                    letter.original,
                    "dead",
                    at=_dead_at(info["dead_at"]),
                    dead_letter=letter.dead,
                    detail=error or info["reason"],
                )
            )
        if entries:
            self.screen.print(render.dead_letters_table(entries, width=self.screen.width))
            first = entries[0].number
            self.screen.print(
                render.note(
                    f"{len(entries)} in {queue} (left there) · show {first} says why · "
                    "dead replay sends them again"
                )
            )
        else:
            self.screen.print(render.note(f"no dead letters in {queue}"))

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
            name = command.args[0].text
            hint = did_you_mean(name, [*COMMANDS, *ALIASES])
            raise UsageError(f"no command {name!r}{hint} (help lists them)")
        self.screen.print(render.help_command(spec))


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--count takes a number of messages, 1 or more, not {text!r}")
    return int(text)


def _dead_at(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _edited_record(text: str) -> records.Record:
    """The record the user edited, or an :class:`EditMistake` saying where it is wrong."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        # The standard library says where, in characters (orjson counts bytes).
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise EditMistake(f"not valid JSON: {exc.msg} at {where}", exc.pos) from None
        raise EditMistake("not valid JSON") from None
    if not isinstance(value, dict):
        raise EditMistake("not a record: a record is a JSON object", 0)
    try:
        return records.parse_record(value)
    except records.RecordError as exc:
        raise EditMistake(f"not a record: {exc}") from None


def _user_path(text: str) -> Path:
    return Path(text).expanduser()
