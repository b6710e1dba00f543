"""``vincent health [MODULE:OBJ]``: a liveness/readiness probe for containers and scripts.

Exit 0 when the broker accepts a connection and (given an app) every queue of the app
has at least one consumer; 5 when the broker cannot be reached; 6 when a queue is
missing or has no consumer; 3 when the check itself takes longer than ``--timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vincent_cli.exit_codes import TIMEOUT, UNHEALTHY, CommandError
from vincent_cli.runtime import get_runtime, run_async

if TYPE_CHECKING:
    from vincent_core.client import Client

__all__ = ["QueueHealth", "health", "unhealthy_reason"]


@dataclass(frozen=True, slots=True)
class QueueHealth:
    """One queue as the probe saw it (``exists`` False: never declared)."""

    name: str
    exists: bool
    messages: int = 0
    consumers: int = 0


def unhealthy_reason(queues: list[QueueHealth]) -> str | None:
    """One line naming what is wrong, or ``None`` when every queue has a consumer."""
    missing = [q.name for q in queues if not q.exists]
    idle = [q.name for q in queues if q.exists and q.consumers == 0]
    problems = []
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


async def _probe(client: Client, names: list[str], timeout: float) -> list[QueueHealth]:
    import asyncio

    async with asyncio.timeout(timeout):
        try:
            await client.connect()
            seen = []
            for name in names:
                info = await client.queue_info(name)
                if info is None:
                    seen.append(QueueHealth(name, exists=False))
                else:
                    seen.append(QueueHealth(name, True, info.messages, info.consumers))
            return seen
        finally:
            await client.close()


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
) -> None:
    """Check the broker (and the app's workers); exit 0 when healthy.

    Exit codes: 0 healthy, 5 the broker cannot be reached or refuses the credentials,
    6 a queue of the app is missing or has no consumer, 3 the check took longer than
    --timeout, 2 a bad MODULE:OBJ. A failure is one line on stderr. Queues of
    route_to="all" listeners are per process and not checked.

    \b
    Examples:
      vincent health
      vincent health myapp:app --timeout 5
    """
    runtime = get_runtime(ctx)
    settings = runtime.settings()
    output = runtime.output
    names = _app_queues(target) if target else []
    try:
        seen = run_async(_probe(runtime.client(settings), names, timeout))
    except TimeoutError:
        raise CommandError(
            f"health check of {settings.masked_url} took longer than {timeout:g}s", code=TIMEOUT
        ) from None
    reason = unhealthy_reason(seen)
    if reason is not None:
        raise CommandError(f"unhealthy: {reason}", code=UNHEALTHY)
    if output.pretty:
        detail = f"; {len(seen)} queue(s) with consumers" if target else ""
        output.stdout.write(f"ok: {settings.masked_url} reachable{detail}\n")
        output.stdout.flush()
    else:
        output.line(
            {
                "healthy": True,
                "broker": settings.masked_url,
                "queues": [
                    {"name": q.name, "messages": q.messages, "consumers": q.consumers} for q in seen
                ],
            }
        )
