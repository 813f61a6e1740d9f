"""Reading a settlement back from its receipt."""

from __future__ import annotations

from typing import Any

from levtoken.shapes import Settlement


def settled(token: Any, receipt: Any) -> tuple[Any, Settlement]:
    """(the Settled event, its Settlement) of the one settlement of `token` in `receipt`."""
    (event,) = receipt.events.filter(token.Settled)
    return event, Settlement.from_abi(event.settlement)
