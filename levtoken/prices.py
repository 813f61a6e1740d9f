"""Price series from CSV files (`date,close`), validated before anything touches a chain."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DAILY_CSV = DATA_DIR / "btc_usd_daily.csv"
HOURLY_CSV = DATA_DIR / "btc_usdt_perp_hourly.csv"


class PriceDataError(Exception):
    """The price file is missing or malformed; the message names the file, line and problem."""


@dataclass(frozen=True)
class PricePoint:
    """One row: UTC timestamp (seconds) and close price."""

    timestamp: int
    close: Decimal

    @property
    def when(self) -> datetime:
        """The row's time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)


def _parse_time(text: str) -> int:
    text = text.strip()
    try:
        if "T" in text:
            return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
        return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc).timestamp())
    except ValueError as err:
        raise ValueError(f"date {text!r} is neither YYYY-MM-DD nor ISO 8601") from err


def _day(timestamp: int) -> str:
    """A timestamp as the user writes it: YYYY-MM-DD at midnight UTC, else with its time."""
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return f"{when:%Y-%m-%d}" if timestamp % 86_400 == 0 else f"{when:%Y-%m-%dT%H:%M}"


def parse_date(text: str | None) -> int | None:
    """A CLI date (YYYY-MM-DD or ISO 8601) as a UTC timestamp; None stays None."""
    if text is None:
        return None
    try:
        return _parse_time(text)
    except ValueError as err:
        raise PriceDataError(str(err)) from None


def load_prices(path: Path | str, start: int | None = None, end: int | None = None) -> list[PricePoint]:
    """Reads `date,close` rows, checks them (header, dates ascending and unique, prices > 0) and
    keeps those with start <= timestamp <= end."""
    path = Path(path)
    if not path.is_file():
        raise PriceDataError(f"price file {path} not found")
    points: list[PricePoint] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:  # a spreadsheet's byte-order mark is not a header
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PriceDataError(f"{path} is empty; expected a 'date,close' header and a row per price")
        if [h.strip().lower() for h in header[:2]] != ["date", "close"]:
            raise PriceDataError(f"{path}: first line must be the header 'date,close', found {header!r}")
        previous = first = None
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise PriceDataError(f"{path}:{line}: expected 'date,close', found {row!r}")
            try:
                timestamp = _parse_time(row[0])
                close = Decimal(row[1].strip())
            except (ValueError, InvalidOperation) as err:
                raise PriceDataError(f"{path}:{line}: {err if isinstance(err, ValueError) else 'close ' + repr(row[1]) + ' is not a number'}") from None
            if not close.is_finite() or close <= 0:
                raise PriceDataError(f"{path}:{line}: close must be a positive number, found {row[1]!r}")
            if previous is not None and timestamp <= previous:
                raise PriceDataError(f"{path}:{line}: dates must be strictly ascending ({row[0]} after an equal or later date)")
            previous = timestamp
            first = timestamp if first is None else first
            if (start is None or timestamp >= start) and (end is None or timestamp <= end):
                points.append(PricePoint(timestamp, close))
    if len(points) < 2:
        span = " ".join(f"{word} {_day(when)}" for word, when in (("from", start), ("to", end)) if when is not None)
        holds = f"its rows run from {_day(first)} to {_day(previous)}" if first is not None else "it has no rows"
        raise PriceDataError(f"{path}: fewer than two rows {span or 'in the file'}; {holds}")
    return points


# The shipped series' default windows: the last year of each.
DEFAULT_WINDOWS = {DAILY_CSV: ("2024-09-24", "2025-09-24"), HOURLY_CSV: ("2023-04-18", "2024-04-18")}


def load_series(csv_path: Path | None, start: str | None, end: str | None, hourly: bool) -> tuple[Path, list[PricePoint]]:
    """The series a replay asks for, as (its file, its points): `csv_path` between the dates `start` and `end`
    (either may be None: open-ended), or without a file the shipped daily (or `hourly`) series, over its default
    window when neither date is given. PriceDataError when `start` is after `end`."""
    if start is not None and end is not None and parse_date(start) > parse_date(end):
        raise PriceDataError(f"--start {start} is after --end {end}; give the earlier date first")
    if csv_path is None:
        csv_path = HOURLY_CSV if hourly else DAILY_CSV
        if start is None and end is None:
            start, end = DEFAULT_WINDOWS[csv_path]
    return csv_path, load_prices(csv_path, parse_date(start), parse_date(end))


def asset_of(path: Path | str) -> str | None:
    """The asset a price file quotes, from its name when that says it as `<ASSET>_USD...` or `<ASSET>-USD...`
    (btc_usd_daily.csv, eth-usdt.csv: BTC, ETH); None when the name does not."""
    words = re.split(r"[^A-Za-z0-9]+", Path(path).stem)
    if len(words) >= 2 and words[1].lower() in ("usd", "usdt", "usdc") and words[0].isalnum() and len(words[0]) <= 10:
        return words[0].upper()
    return None
