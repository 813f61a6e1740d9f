// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proof} from "./Proof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FixedPointMath as FPM} from "levtoken/libraries/FixedPointMath.sol";

/// @title FixedPointMathProofs
/// @notice The rounding direction of FixedPointMath's signed divisions and of mulDivUp against mulDivDown.
contract FixedPointMathProofs is Proof {
    /// @notice sDivDown(a, b) is the floor of a / b for b > 0 and a >= 0: q * b <= a < (q + 1) * b, for every a and
    /// b of int128 (sizes and prices are far smaller), so that neither product overflows int256.
    function check_sDivDownIsFloorOfNonNegative(int128 a, int128 b) external pure {
        vm.assume(b > 0 && a >= 0);
        int256 q = FPM.sDivDown(a, b);
        unchecked {
            assert(q * b <= a);
            assert(a - q * b < b); // so a < (q + 1) * b
        }
    }

    /// @notice For a < 0, sDivDown(a, b) is -sDivUp(-a, b): with check_sDivUpIsCeiling (every int128, and -a is
    /// one for a > -2^127), sDivDown(a, b) = -ceil(-a / b) = floor(a / b). Stated so because the solvers stall on a
    /// signed division of a negative dividend by a sign-extended divisor, where the floor is asserted directly.
    function check_sDivDownOfNegativeIsMinusCeiling(int128 a, int128 b) external pure {
        vm.assume(b > 0 && a < 0 && a > type(int128).min);
        assert(FPM.sDivDown(a, b) == -FPM.sDivUp(-int256(a), b));
    }

    /// @notice sDivUp(a, b) is the ceiling of a / b for b > 0: (q - 1) * b < a <= q * b, same bounds.
    function check_sDivUpIsCeiling(int128 a, int128 b) external pure {
        vm.assume(b > 0);
        int256 q = FPM.sDivUp(a, b);
        unchecked {
            assert(a <= q * b);
            assert(q * b - a < b); // so (q - 1) * b < a
        }
    }

    /// @notice mulDivUp(x, y, d) - mulDivDown(x, y, d) is 0 or 1, and 1 exactly when d does not divide x * y, for
    /// every x, y and d > 0 whose x * y / d fits in 256 bits (mulDiv reverts otherwise) and whose rounded-up
    /// result does too; the 512-bit branch included.
    function check_mulDivUpIsDownOrOneMore(uint256 x, uint256 y, uint256 d) external pure {
        vm.assume(d > 0);
        (uint256 high,) = Math.mul512(x, y);
        vm.assume(high < d); // the quotient fits in 256 bits
        uint256 down = FPM.mulDivDown(x, y, d);
        vm.assume(down < type(uint256).max || mulmod(x, y, d) == 0); // so does the rounded-up one
        uint256 up = FPM.mulDivUp(x, y, d);
        assert(up - down == (mulmod(x, y, d) > 0 ? 1 : 0));
    }
}
