"""The block time the model's contracts read (Solidity's `block.timestamp`): one clock a system shares, moved
only by the system (levtoken.model.system), never by a contract."""

from __future__ import annotations


class Clock:
    """`now`: the timestamp of the block the next transaction runs in."""

    __slots__ = ("now",)

    def __init__(self, now: int) -> None:
        self.now = now

    def __repr__(self) -> str:
        return f"Clock(now={self.now})"
