"""When the node goes away: recognising it, and the one back-off policy every waiting loop uses.

`Backoff` is used by the keeper's per-block logic (skip blocks while the node is down), by the bot's
block-polling runner (bots/keeper_runner.py) and by the supervisor that restarts the bot process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ape.exceptions import ProviderNotConnectedError

# Texts of errors that wrap a connection failure without chaining it.
CONNECTION_MESSAGES = ("Connection refused", "Max retries exceeded", "Connection aborted", "Not connected")


class NodeUnavailable(Exception):
    """The node did not answer; the block is aborted and the keeper backs off."""


def is_connection_error(err: BaseException) -> bool:
    """True when an exception (or one it was raised from) says the node could not be reached."""
    import requests

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            (
                NodeUnavailable,
                ProviderNotConnectedError,
                ConnectionError,  # builtin: refused, reset, aborted
                TimeoutError,
                requests.ConnectionError,
                requests.Timeout,
            ),
        ):
            return True
        text = str(current)
        if any(s in text for s in CONNECTION_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class Backoff:
    """A delay that starts at `initial` on the first failure, doubles on each further one up to
    `maximum`, and goes back to none on `reset()`. `waiting` says whether the current delay is still
    running (for callers that are called periodically rather than sleeping)."""

    initial: float = 1.0
    maximum: float = 60.0
    clock: Callable[[], float] = time.monotonic
    delay: float = field(default=0.0, init=False)  # 0: not backing off
    _until: float = field(default=0.0, init=False)

    def failed(self) -> float:
        """Records a failure: the delay starts or doubles (capped); returns it in seconds."""
        self.delay = min(self.maximum, self.delay * 2 if self.delay else self.initial)
        self._until = self.clock() + self.delay
        return self.delay

    def reset(self) -> bool:
        """Records a success: no delay any more. True when it was backing off until now."""
        was_backing_off = self.delay > 0
        self.delay = 0.0
        self._until = 0.0
        return was_backing_off

    @property
    def waiting(self) -> bool:
        """True while the delay of the last failure has not run out."""
        return self.clock() < self._until
