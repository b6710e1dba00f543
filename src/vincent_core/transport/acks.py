"""Settling a consumer channel's deliveries in as few frames as ordering allows.

Sans-io: delivery tags in, frames out. A consumer has its own channel, so its delivery
tags are 1, 2, 3... in delivery order. Once every tag up to some ``L`` is settled, the
acks of a loop iteration that lie in that run need one ``basic.ack`` with
``multiple=True`` (tag ``L``'s) instead of one each: fewer bytes to write, and fewer
frames for the broker, which shares the CPU with the worker.

``multiple=True`` acks *every* unacked tag up to its own, so it is used only where that
set is exactly the acks being sent: the run below ``low`` (every tag up to it settled:
sent before, or in this very batch) and rejects written before it. A tag that is never
settled (a handler still running, or a message deliberately left unacked) stops the
run; tags above it are acked one by one.
"""

from __future__ import annotations

from vincent_core.transport.frames import ack_frame, reject_frame

__all__ = ["Settlements"]

#: settled tags kept above a gap before giving up on runs for the channel (a tag left
#: unacked for good would otherwise grow the set by one per message)
MAX_ABOVE_GAP = 4096


class Settlements:
    """The acks and rejects of one consumer channel not yet written."""

    __slots__ = ("_above", "_acks", "_low", "_number", "_rejects", "tracking")

    def __init__(self, channel_number: int) -> None:
        self._number = channel_number
        self._low = 0
        self._above: set[int] = set()
        self._acks: list[int] = []
        self._rejects: list[tuple[int, bool]] = []
        #: False once runs are given up for this channel: every ack is sent alone
        self.tracking = True

    @property
    def pending(self) -> bool:
        """True while some settlement waits for :meth:`frames`."""
        return bool(self._acks or self._rejects)

    def ack(self, tag: int) -> bool:
        """Settle ``tag`` with an ack; True when it is the first pending settlement."""
        first = not self.pending
        self._acks.append(tag)
        return first

    def reject(self, tag: int, requeue: bool) -> bool:
        """Settle ``tag`` with a reject; True when it is the first pending settlement."""
        first = not self.pending
        self._rejects.append((tag, requeue))
        return first

    def frames(self) -> bytes:
        """The frames for everything pending: rejects first, then the acks."""
        number = self._number
        acks, rejects = self._acks, self._rejects
        self._acks, self._rejects = [], []
        parts = [reject_frame(number, tag, requeue=requeue) for tag, requeue in rejects]
        if self.tracking:
            above = self._above
            above.update(tag for tag, _ in rejects)
            above.update(acks)
            low = self._low
            while low + 1 in above:
                low += 1
                above.discard(low)
            self._low = low
            run = [tag for tag in acks if tag <= low]
            if len(run) > 1:
                parts.append(ack_frame(number, max(run), multiple=True))
                acks = [tag for tag in acks if tag > low]
            if len(above) > MAX_ABOVE_GAP:
                self.tracking = False
                above.clear()
        parts.extend(ack_frame(number, tag) for tag in acks)
        return b"".join(parts)
