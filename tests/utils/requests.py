"""Reading settlements back from receipts: the Settled event's Settlement as levtoken.shapes.Settlement."""

from __future__ import annotations

from typing import Any

from levtoken.shapes import Settlement


def settled(token: Any, receipt: Any) -> Any:
    """The one Settled event `token` emitted in `receipt`."""
    (event,) = receipt.events.filter(token.Settled)
    return event


def settlement_of(token: Any, receipt: Any) -> Settlement:
    """What the settlement in `receipt` priced and gave (the Settled event's Settlement struct)."""
    return Settlement.from_abi(settled(token, receipt).settlement)
