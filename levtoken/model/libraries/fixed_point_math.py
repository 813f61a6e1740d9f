"""FixedPointMath (contracts/libraries/FixedPointMath.sol): WAD fixed-point helpers named by their
rounding direction, and the Solidity and OpenZeppelin Math arithmetic they build on.

"Down" and "Up" are toward negative and positive infinity for signed values, so a caller picks the
direction that favours the protocol, never the one that is cheaper to write. `abs` and `min` of the
library are Python's own.
"""

from __future__ import annotations

from levtoken.model.errors import MathOverflowedMulDiv, Panic
from levtoken.shapes import UINT256_MAX
from levtoken.units import WAD


def mul_div_down(x: int, y: int, d: int) -> int:
    """x * y / d rounded down (Math.mulDiv: full 512-bit intermediate, reverts on overflow of the result
    or division by zero)."""
    assert x >= 0 and y >= 0 and d >= 0, "mulDiv takes unsigned operands"
    if d == 0:
        raise Panic(0x12)
    q = x * y // d
    if q > UINT256_MAX:
        raise MathOverflowedMulDiv()
    return q


def mul_div_up(x: int, y: int, d: int) -> int:
    """x * y / d rounded up (Math.mulDiv with Rounding.Ceil)."""
    assert x >= 0 and y >= 0 and d >= 0, "mulDiv takes unsigned operands"
    if d == 0:
        raise Panic(0x12)
    q = -((-x * y) // d)
    if q > UINT256_MAX:
        raise MathOverflowedMulDiv()
    return q


def w_mul_down(x: int, y: int) -> int:
    """x * y / WAD rounded down."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """x * WAD / y rounded down."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """x * WAD / y rounded up."""
    return mul_div_up(x, WAD, y)


def s_div_down(a: int, b: int) -> int:
    """a / b for signed a and positive b, rounded toward negative infinity."""
    if b > 0:
        return a // b  # Python's floor division
    q = tdiv(a, b)
    return q - 1 if tmod(a, b) != 0 and a < 0 else q


def s_div_up(a: int, b: int) -> int:
    """a / b for signed a and positive b, rounded toward positive infinity."""
    if b > 0:
        return -(-a // b)
    q = tdiv(a, b)
    return q + 1 if tmod(a, b) != 0 and a > 0 else q


def tdiv(a: int, b: int) -> int:
    """Solidity's signed `a / b`: truncates toward zero (Panic 0x12 on division by zero)."""
    if b == 0:
        raise Panic(0x12)
    if (a < 0) == (b < 0):
        return a // b  # same signs: floor is truncation
    return -(-a // b)


def tmod(a: int, b: int) -> int:
    """Solidity's signed `a % b`: has the sign of a."""
    return a - b * tdiv(a, b)
