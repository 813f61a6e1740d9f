"""Reading settlements back from receipts (the Settled event's Settlement as levtoken.shapes.Settlement), and
silencing the call traces of reverts a test allows."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from ape_ethereum.trace import Trace

from levtoken.shapes import Settlement


def settled(token: Any, receipt: Any) -> Any:
    """The one Settled event `token` emitted in `receipt`."""
    (event,) = receipt.events.filter(token.Settled)
    return event


def settlement_of(token: Any, receipt: Any) -> Settlement:
    """What the settlement in `receipt` priced and gave (the Settled event's Settlement struct)."""
    return Settlement.from_abi(settled(token, receipt).settlement)


@contextmanager
def quiet() -> Iterator[None]:
    """No call-trace printing inside the block, for reverts a test allows (as tests.utils.reverts does)."""
    show = Trace.show
    Trace.show = lambda self, *args, **kwargs: None
    try:
        yield
    finally:
        Trace.show = show
