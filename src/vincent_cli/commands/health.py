"""``vincent health [MODULE:OBJ]``: a liveness/readiness probe for containers and scripts.

Exit 0 when the broker accepts a connection and a publish, and (given an app) every
queue of the app has at least one consumer; 5 when the broker cannot be reached; 6 when a
queue is missing or has no consumer, or the broker blocks publishing (a resource alarm,
unless ``--allow-blocked``); 3 when the check itself takes longer than ``--timeout``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.exit_codes import TIMEOUT, UNHEALTHY, CommandError
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["BLOCKED", "QueueHealth", "health", "unhealthy_reason"]

#: what a blocked broker means for the fleet, in the probe's words
BLOCKED = (
    "the broker blocks publishing (a memory or disk alarm): workers keep consuming, "
    "but casts, calls, replies and retries wait until it clears"
)

#: how long closing the probe's connections may take, after the verdict
_CLOSE_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class QueueHealth:
    """One queue as the probe saw it (``exists`` False: never declared)."""

    name: str
    exists: bool
    messages: int = 0
    consumers: int = 0


def unhealthy_reason(queues: list[QueueHealth], *, blocked: bool = False) -> str | None:
    """One line naming what is wrong, or ``None`` when every queue has a consumer and
    publishing is not ``blocked``."""
    missing = [q.name for q in queues if not q.exists]
    idle = [q.name for q in queues if q.exists and q.consumers == 0]
    problems = [BLOCKED] if blocked else []
    if missing:
        problems.append("queue(s) not declared (no worker ever started?): " + ", ".join(missing))
    if idle:
        problems.append("no consumers on " + ", ".join(idle))
    return "; ".join(problems) or None


def _app_queues(target: str) -> list[str]:
    from vincent_cli.loading import load_app

    app = load_app(target)
    # A route_to="all" queue is named per process (host, pid, random id): it cannot be
    # looked up from outside, and the process owning it is the only consumer anyway.
    names = [listener.queue_name() for listener in app.listeners if listener.route_to != "all"]
    return list(dict.fromkeys(names))


async def _probe(
    client: Client, names: list[str], timeout: float
) -> tuple[list[QueueHealth], bool]:
    """The app's queues as the broker sees them, and whether it blocks publishing."""
    import asyncio

    with _quiet_transport():
        try:
            async with asyncio.timeout(timeout):
                await client.connect()
                seen = []
                for name in names:
                    info = await client.queue_info(name)
                    if info is None:
                        seen.append(QueueHealth(name, exists=False))
                    else:
                        seen.append(QueueHealth(name, True, info.messages, info.consumers))
                return seen, await _publishing_blocked(client)
        finally:
            # Outside the check's time: a blocked connection's close waits for its
            # bound, and must not turn the verdict into a timeout.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_WAIT):
                    await client.close()


async def _publishing_blocked(client: Client) -> bool:
    """True when the broker blocks publishing now (a memory or disk alarm).

    RabbitMQ tells a connection it is blocked only once it publishes, so the probe
    publishes: an empty message to the default exchange under a name no queue can have
    (dropped at once; ``expiration`` 0 besides), twice. The broker sends
    ``connection.blocked`` before it reads anything more, so a second confirm with no
    block notice before it proves publishing flows. Workers' replies travel the same
    way (the default exchange), so a refusal here is one their replies meet too.
    """
    import asyncio

    from vincent_core.wire.envelope import Envelope

    transport = client.transport
    noticed = asyncio.Event()

    def on_state(state: str) -> None:
        if state == "blocked":
            noticed.set()

    async def publish_twice() -> None:
        for _ in range(2):
            probe = Envelope(exchange="", routing_key="", body=b"", expiration="0")
            # No bound of its own: the check's --timeout bounds it.
            await client.publish(probe, mandatory=False, timeout=None)

    transport.add_state_listener(on_state)
    probing = asyncio.ensure_future(publish_twice())
    waiting = asyncio.ensure_future(noticed.wait())
    try:
        await asyncio.wait({probing, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if transport.blocked or noticed.is_set():
            return True
        probing.result()  # a refused probe raises (PublishFailed, ConnectionLost)
        return False
    finally:
        transport.remove_state_listener(on_state)
        for task in (probing, waiting):
            task.cancel()
        await asyncio.gather(probing, waiting, return_exceptions=True)


@contextlib.contextmanager
def _quiet_transport() -> Iterator[None]:
    # The transport logs a block (and a reconnect) as a WARNING; the probe's verdict
    # says what matters, once, as one line.
    import logging

    logger = logging.getLogger("vincent.transport")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def health(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="MODULE:OBJ",
            help="Also check that every queue of this app has a consumer.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", metavar="SECONDS", min=0.1, help="Give up (exit 3) after SECONDS."
        ),
    ] = 10.0,
    allow_blocked: Annotated[
        bool,
        typer.Option(
            "--allow-blocked",
            help="A broker that blocks publishing (a resource alarm) is reported, exit 0.",
        ),
    ] = False,
) -> None:
    """Check the broker (and the app's workers); exit 0 when healthy.

    Exit codes: 0 healthy, 5 the broker cannot be reached or refuses the credentials,
    6 a queue of the app is missing or has no consumer, or the broker blocks
    publishing (a memory or disk alarm; exit 0 with --allow-blocked), 3 the check took
    longer than --timeout, 2 a bad MODULE:OBJ. A failure is one line on stderr. Queues
    of route_to="all" listeners are per process and not checked.

    \b
    Examples:
      vincent health
      vincent health myapp:app --timeout 5
    """
    from vincent_core.errors import PublishFailed

    runtime = get_runtime(ctx)
    settings = runtime.settings()
    output = runtime.output
    names = _app_queues(target) if target else []
    try:
        seen, blocked = run_async(_probe(runtime.client(settings), names, timeout))
    except TimeoutError:
        raise CommandError(
            f"health check of {settings.masked_url} took longer than {timeout:g}s", code=TIMEOUT
        ) from None
    except PublishFailed as exc:
        raise CommandError(
            f"unhealthy: the broker refuses publishes: {exc}", code=UNHEALTHY
        ) from None
    reason = unhealthy_reason(seen, blocked=blocked and not allow_blocked)
    if reason is not None:
        raise CommandError(f"unhealthy: {reason}", code=UNHEALTHY)
    if output.pretty:
        detail = f"; {len(seen)} queue(s) with consumers" if target else ""
        if blocked:
            line = f"blocked: {settings.masked_url} reachable, but {BLOCKED}{detail}"
        else:
            line = f"ok: {settings.masked_url} reachable{detail}"
        output.stdout.write(line + "\n")
        output.stdout.flush()
    else:
        output.line(
            {
                "healthy": True,
                "blocked": blocked,
                "broker": settings.masked_url,
                "queues": [
                    {"name": q.name, "messages": q.messages, "consumers": q.consumers} for q in seen
                ],
            }
        )
