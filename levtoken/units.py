"""Fixed-point units shared by the contracts and the tooling (see DESIGN.md section 2)."""

from decimal import Decimal

WAD = 10**18
BPS = 10_000
DAY = 86_400
FEED_DECIMALS = 8
COLLATERAL_DECIMALS = 6


def to_wad(value: float | int | str | Decimal) -> int:
    """An 18-decimal integer from a human number, exact for decimal strings (e.g. "3" -> 3e18)."""
    return int(Decimal(str(value)) * WAD)


def to_feed(price: float | str | Decimal, decimals: int = FEED_DECIMALS) -> int:
    """A feed answer (8 decimals by default) from a price, rounded to the nearest unit."""
    return int((Decimal(str(price)) * 10**decimals).to_integral_value())


def to_units(amount: float | int | str | Decimal, decimals: int = COLLATERAL_DECIMALS) -> int:
    """Collateral units from a human amount (e.g. "1000" USD -> 1_000_000_000 with 6 decimals)."""
    return int(Decimal(str(amount)) * 10**decimals)


def from_units(amount: int, decimals: int = COLLATERAL_DECIMALS) -> Decimal:
    """A human amount from collateral units."""
    return Decimal(amount) / Decimal(10**decimals)


def from_wad(value: int) -> Decimal:
    """A human number from an 18-decimal integer."""
    return Decimal(value) / Decimal(WAD)


def leverage_label(leverage_wad: int) -> str:
    """'3x long', '1x short' for a signed WAD leverage."""
    magnitude = from_wad(abs(leverage_wad)).normalize()
    return f"{magnitude:f}x {'long' if leverage_wad > 0 else 'short'}"


def utc_text(timestamp: int, seconds: bool = False) -> str:
    """A unix time as a reader's UTC date and minute: `2027-01-03 14:00 UTC` (with `seconds`, `14:00:05`)."""
    from datetime import datetime, timezone

    return f"{datetime.fromtimestamp(timestamp, tz=timezone.utc):%Y-%m-%d %H:%M{':%S' if seconds else ''}} UTC"
