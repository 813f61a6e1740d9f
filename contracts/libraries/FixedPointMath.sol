// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @dev One, in 18-decimal fixed point.
uint256 constant WAD = 1e18;
/// @dev One, in basis points.
uint256 constant BPS = 10_000;

/// @title FixedPointMath
/// @notice WAD (1e18) fixed-point helpers named by their rounding direction.
/// @dev "Down" and "Up" are toward negative and positive infinity for signed values, so a caller
/// picks the direction that favours the protocol, never the one that is cheaper to write.
library FixedPointMath {
    /// @dev x * y / d rounded down (full 512-bit intermediate, reverts on overflow of the result).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }

    /// @dev x * y / d rounded up.
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }

    function wMulDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD);
    }

    function wDivDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y);
    }

    function wDivUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y, Math.Rounding.Ceil);
    }

    /// @dev a / b for signed a and positive b, rounded toward negative infinity: for a < 0, -(-a / b rounded up).
    function sDivDown(int256 a, int256 b) internal pure returns (int256) {
        return a < 0 ? -sDivUp(-a, b) : a / b;
    }

    /// @dev a / b for signed a and positive b, rounded toward positive infinity.
    function sDivUp(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b != 0 && a > 0) q += 1;
    }

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function sMin(int256 a, int256 b) internal pure returns (int256) {
        return a < b ? a : b;
    }
}
