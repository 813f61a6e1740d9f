"""Reverts in one line: every custom error of the project's contracts by its name, with its arguments in the
user's units (leverage as `3x`, collateral with its decimals, prices in dollars, times as dates).

One definition for the keeper's logs, the `levtoken` command and the replay.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from typing import Any

from eth_utils import is_address, to_checksum_address

from levtoken.shapes import UINT256_MAX
from levtoken.units import FEED_DECIMALS, from_units, from_wad

# The unit of each error argument that is not a plain count: (error, argument) first, then the argument alone.
_LEVERAGE, _COLLATERAL, _SHARES, _PRICE, _TIME, _SECONDS = "leverage", "collateral", "shares", "price", "time", "s"
_WAD_PRICE = "wad price"  # a venue's 18-decimal price
ARGUMENT_UNITS: dict[tuple[str, str] | str, str] = {
    "targetLeverage": _LEVERAGE,
    "leverage": _LEVERAGE,
    ("InsufficientMargin", "value"): _COLLATERAL,
    ("InsufficientMargin", "required"): _COLLATERAL,
    ("InsufficientFreeMargin", "margin"): _COLLATERAL,
    ("InsufficientFreeMargin", "amount"): _COLLATERAL,
    ("InsufficientPoolLiquidity", "available"): _COLLATERAL,
    ("InsufficientPoolLiquidity", "needed"): _COLLATERAL,
    ("OpenInterestCapExceeded", "openInterest"): _COLLATERAL,
    ("OpenInterestCapExceeded", "cap"): _COLLATERAL,
    ("NotLiquidatable", "value"): _COLLATERAL,
    ("NotLiquidatable", "maintenance"): _COLLATERAL,
    ("InsufficientShares", "balance"): _SHARES,
    ("InsufficientShares", "needed"): _SHARES,
    ("SupplyCapExceeded", "supplyAfter"): _SHARES,
    ("SupplyCapExceeded", "cap"): _SHARES,
    "answer": _PRICE,
    "oraclePrice": _WAD_PRICE,
    "allowedAt": _TIME,
    "opensAt": _TIME,
    "priceTime": _TIME,
    "lastRequest": _TIME,
    "updatedAt": _TIME,
    "heartbeat": _SECONDS,
}


def format_argument(error: str, name: str, value: Any) -> str:
    """One error argument in the user's units: `3x`, `1,000.000000 collateral`, `$61,000.00`, a UTC date, a
    checksummed address."""
    unit = ARGUMENT_UNITS.get((error, name)) or ARGUMENT_UNITS.get(name)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return value.hex() if isinstance(value, bytes) else str(value)
    if value == UINT256_MAX:
        return "never yet" if unit == _TIME else "uint256 max"
    if unit == _LEVERAGE:
        return f"{from_wad(value).normalize():f}x"
    if unit == _COLLATERAL:
        return f"{from_units(value):,.6f} collateral"
    if unit == _SHARES:
        return f"{from_wad(value):,.6f} tokens"
    if unit == _PRICE:
        return f"${from_units(value, FEED_DECIMALS):,.2f}"
    if unit == _WAD_PRICE:
        return f"${from_wad(value):,.2f}"
    if unit == _TIME and value > 10**9:
        return f"{datetime.fromtimestamp(value, tz=timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    if unit == _SECONDS:
        return f"{value} s"
    return str(value)


def format_error(name: str, inputs: dict[str, Any]) -> str:
    """`Name(arg=value, ...)` with each value in the user's units."""
    return f"{name}({', '.join(f'{key}={format_argument(name, key, value)}' for key, value in inputs.items())})"


@functools.lru_cache(maxsize=1)
def project_errors() -> dict[str, Any]:
    """Every custom error the project's contracts declare, by 0x-hex 4-byte selector: read from the compiled
    artifacts (ape's manifest), never by compiling (a file that declares only errors would look uncompiled)."""
    from ape import project
    from eth_utils import keccak

    errors = {}
    for contract_type in (project.manifest.contract_types or {}).values():
        for abi in contract_type.errors:
            errors["0x" + keccak(text=abi.selector)[:4].hex()] = abi
    return errors


def decode_revert(err: Exception) -> tuple[str, dict[str, Any]] | None:
    """The custom error's name and arguments: ape's decoding, else the revert data decoded by its selector
    (an error raised in a nested call, which ape leaves as hex); None for a revert that is not one."""
    from ape.exceptions import CustomError

    if isinstance(err, CustomError):
        return err.abi.name, dict(err.inputs)
    return decode_revert_data(revert_data(err))


def revert_data(err: Exception) -> str:
    """The 0x-hex revert data of a revert ape left undecoded (an error raised in a nested call), from its message.

    ape words it as the raw data ("0x<selector><arguments>") or as "custom error 0x<selector>: <arguments>" with
    the arguments in hex or, from a dry run (`.call()` of a transaction), as raw bytes."""
    text = str(getattr(err, "revert_message", None) or getattr(err, "message", None) or err)
    if not text.startswith("custom error "):
        return "".join(text.split())
    head, _, tail = text.removeprefix("custom error ").partition(":")
    tail = tail[1:] if tail.startswith(" ") else tail
    hex_tail = tail.strip().removeprefix("0x")
    if re.fullmatch(r"[0-9a-fA-F]*", hex_tail):
        arguments = bytes.fromhex(hex_tail)
    else:  # the arguments' bytes as text: every byte kept (0x1c is whitespace to str.split, not to the ABI)
        try:
            arguments = tail.encode("latin-1")
        except UnicodeEncodeError:  # ape's text lost the bytes: the error is still named, without its arguments
            arguments = b""
    return "0x" + head.strip().removeprefix("0x") + arguments.hex()


def decode_revert_data(data: str) -> tuple[str, dict[str, Any]] | None:
    """The custom error's name and arguments from revert data (0x-hex: selector, then the ABI-encoded
    arguments), as a wallet or a node returns it; None when no project error has that selector."""
    from eth_abi import decode

    if not (data.startswith("0x") and len(data) >= 10):
        return None
    abi = project_errors().get(data[:10].lower())
    if abi is None:
        return None
    try:
        values = decode([i.canonical_type for i in abi.inputs], bytes.fromhex(data[10:]))
    except Exception:
        return abi.name, {}
    return abi.name, {i.name: v for i, v in zip(abi.inputs, values)}


def describe_revert_data(data: str) -> str | None:
    """Revert data (0x-hex) in one line, `Name(arg=value, ...)` in the user's units; None when it is not one
    of the project's errors."""
    decoded = decode_revert_data(data)
    return format_error(*decoded) if decoded is not None else None


def revert_name(err: Exception) -> str:
    """The custom error's name (e.g. `RebalanceNotDue`), else the revert message."""
    decoded = decode_revert(err)
    if decoded is not None:
        return decoded[0]
    return " ".join(str(getattr(err, "message", "") or err).split()) or "reverted"


def describe_revert(err: Exception) -> str:
    """A revert in one line: the custom error's name and arguments in the user's units, else the message."""
    decoded = decode_revert(err)
    if decoded is not None:
        return format_error(*decoded)
    text = " ".join(str(getattr(err, "revert_message", None) or err).split())
    return text or type(err).__name__
