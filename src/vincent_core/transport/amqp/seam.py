"""aiormq's objects, typed, and every reach into its private state, in one place.

The public types are aiormq's own abstract classes (``AbstractConnection``,
``AbstractChannel``, ``DeliveredMessage``). The fast paths need four things aiormq has
no public API for; each is one function here, so an aiormq upgrade is checked against
this module alone (hence the ``aiormq<8`` pin in pyproject.toml):

- :func:`register_confirm`: a publish written as raw frames registers its confirm
  future the way ``basic_publish`` does (``delivery_tag``, ``confirmations``,
  ``message_id_delivery_tag``).
- :func:`channel_open`: aiormq marks a channel the broker closed before
  ``is_closed`` turns true.
- :func:`watch_blocked`: aiormq logs ``connection.blocked``/``unblocked`` but has no
  callback for them.
- :func:`write_queue` / :func:`settle_confirms_in_order`: the writer's queue that the
  outbox batches into, and a confirm handler that does not scan every pending confirm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol, cast

from aiormq.abc import AbstractChannel, AbstractConnection, DeliveredMessage
from pamqp import commands as spec

__all__ = [
    "AbstractChannel",
    "AbstractConnection",
    "ConfirmState",
    "DeliveredMessage",
    "channel_open",
    "frame_max",
    "max_body_frame",
    "pending_confirms",
    "register_confirm",
    "settle_confirms_in_order",
    "watch_blocked",
    "write_queue",
]


class ConfirmState(Protocol):
    """The confirm bookkeeping of an aiormq channel with publisher confirms on."""

    delivery_tag: int
    confirmations: MutableMapping[int, Any]
    message_id_delivery_tag: dict[str, int]
    max_content_size: int


def _state(channel: AbstractChannel) -> ConfirmState:
    return cast(ConfirmState, channel)


def channel_open(channel: AbstractChannel) -> bool:
    """True while frames may still be sent on ``channel``.

    aiormq marks a channel the broker closed (it has queued the ``close-ok``) before
    ``is_closed`` turns true; a frame sent after that ``close-ok`` would be a
    connection error (504), not just a lost ack.
    """
    closed: asyncio.Event = channel._Channel__close_event  # type: ignore[attr-defined]
    return not channel.is_closed and not closed.is_set()


def max_body_frame(channel: AbstractChannel) -> int:
    """The largest body payload one frame of ``channel`` may carry."""
    return _state(channel).max_content_size


def frame_max(connection: AbstractConnection) -> int:
    """The frame size negotiated with the broker (``connection.tune``)."""
    return int(connection.connection_tune.frame_max or 131072)


def register_confirm(
    channel: AbstractChannel, message_id: str, *, mandatory: bool
) -> tuple[int, asyncio.Future[Any]]:
    """The delivery tag and confirm future of the next publish on ``channel``.

    As aiormq's ``basic_publish`` does it: the future sits in ``confirmations`` under
    the next tag; a mandatory publish also maps its message id to that tag, so that a
    ``basic.return`` fails this publish (NoRoute) and no other.
    """
    state = _state(channel)
    state.delivery_tag += 1
    tag = state.delivery_tag
    future: asyncio.Future[Any] = channel.create_future()
    state.confirmations[tag] = future
    if mandatory:
        state.message_id_delivery_tag[message_id] = tag
    return tag, future


def forget_return(channel: AbstractChannel, message_id: str, tag: int) -> None:
    """Drop the message-id → tag entry of a settled mandatory publish."""
    returns = _state(channel).message_id_delivery_tag
    if returns.get(message_id) == tag:
        del returns[message_id]


def pending_confirms(channel: AbstractChannel) -> list[asyncio.Future[Any]]:
    """Confirm futures of ``channel`` still waiting for the broker."""
    futures = _state(channel).confirmations.values()
    return [f for f in futures if isinstance(f, asyncio.Future) and not f.done()]


def write_queue(connection: AbstractConnection) -> asyncio.Queue[Any]:
    """The queue aiormq's writer task sends from, in order."""
    return connection.write_queue


def watch_blocked(connection: AbstractConnection, on_change: Callable[[bool, str], None]) -> None:
    """Call ``on_change(blocked, reason)`` on ``connection.blocked``/``unblocked``.

    aiormq's reader looks its frame handlers up on the instance for every frame; these
    wrap its own (which also hold its writer while blocked).
    """
    blocked_name = "_Connection__handle_connection_blocked"
    unblocked_name = "_Connection__handle_connection_unblocked"
    on_blocked: Callable[[spec.Connection.Blocked], Awaitable[None]]
    on_blocked = getattr(connection, blocked_name)
    on_unblocked: Callable[[spec.Connection.Unblocked], Awaitable[None]]
    on_unblocked = getattr(connection, unblocked_name)

    async def blocked(frame: spec.Connection.Blocked) -> None:
        await on_blocked(frame)
        on_change(True, str(frame.reason or ""))

    async def unblocked(frame: spec.Connection.Unblocked) -> None:
        await on_unblocked(frame)
        on_change(False, "")

    setattr(connection, blocked_name, blocked)
    setattr(connection, unblocked_name, unblocked)


def settle_confirms_in_order(channel: AbstractChannel) -> None:
    """Make ``channel`` settle a ``multiple`` confirm without scanning every pending one.

    aiormq answers each ``basic.ack`` with ``multiple=True`` by walking *all* pending
    confirmations and scheduling one callback per settled one: with 1,000 casts in
    flight that was 40 % of a cast's time. Pending confirmations sit in
    ``confirmations`` in delivery-tag order (they are added as tags are handed out), so
    the settled ones are a prefix: walk it and stop at the first later tag. (A returned
    message's marker is re-added at the end; the next ack that covers it removes it,
    and until then it is harmless.)
    """
    confirm_one: Callable[[int, Any], None] = channel._confirm_delivery  # type: ignore[attr-defined]
    confirmations = _state(channel).confirmations

    async def on_confirm(frame: spec.Basic.Ack | spec.Basic.Nack) -> None:
        last = frame.delivery_tag
        settled: list[int] = []
        if getattr(frame, "multiple", False):
            for tag in confirmations:
                if tag > last:
                    break
                settled.append(tag)
        elif last in confirmations:
            settled.append(last)
        for tag in settled:
            confirm_one(tag, frame)

    # The channel's reader looks the handler up on the instance for every frame.
    channel._on_confirm_frame = on_confirm  # type: ignore[attr-defined]
