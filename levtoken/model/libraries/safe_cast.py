"""OpenZeppelin SafeCast's range checks and Solidity 0.8's checked arithmetic on the narrow storage
types (int128, uint128, uint64) the contracts use."""

from __future__ import annotations

from levtoken.model.errors import Panic, SafeCastOverflowedIntDowncast, SafeCastOverflowedUintDowncast

INT128_MIN, INT128_MAX = -(2**127), 2**127 - 1
UINT128_MAX = 2**128 - 1


def to_int128(x: int) -> int:
    """SafeCast.toInt128."""
    if not INT128_MIN <= x <= INT128_MAX:
        raise SafeCastOverflowedIntDowncast(128, x)
    return x


def to_uint128(x: int) -> int:
    """SafeCast.toUint128."""
    return to_uint(x, 128)


def to_uint(x: int, bits: int) -> int:
    """SafeCast.toUint<bits> (toUint128, toUint48, toUint16)."""
    if x < 0 or x >> bits:
        raise SafeCastOverflowedUintDowncast(bits, x)
    return x


def checked_int128(x: int) -> int:
    """The result of checked int128 arithmetic (Panic 0x11 when out of range)."""
    if not INT128_MIN <= x <= INT128_MAX:
        raise Panic(0x11)
    return x


def checked_uint(x: int, bits: int = 256) -> int:
    """The result of checked unsigned arithmetic (Panic 0x11 on underflow or overflow)."""
    if x < 0 or x >> bits:
        raise Panic(0x11)
    return x


def to_uint256_unchecked(x: int) -> int:
    """Solidity's explicit `uint256(int256)` conversion: reinterprets a negative value (no revert)."""
    return x % 2**256
