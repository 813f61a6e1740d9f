// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proof} from "./Proof.sol";

/// @title LemmaProofs
/// @notice The arithmetic lemmas that other checks assume at their own terms (Proof.mulMonotone,
/// Proof.mulStrictlyMonotone), proved here for every value within their bounds: a check may assume an instance only
/// after asserting that the instance's values are within these bounds.
contract LemmaProofs is Proof {
    /// @notice a <= b implies a * t <= b * t, for every a, b, t below 2^128 (so no product overflows).
    function check_mulMonotone(uint128 a, uint128 b, uint128 t) external pure {
        if (a <= b) {
            unchecked {
                assert(uint256(a) * t <= uint256(b) * t);
            }
        }
    }

    /// @notice a < b and t > 0 imply a * t < b * t, for every a, b, t below 2^128.
    function check_mulStrictlyMonotone(uint128 a, uint128 b, uint128 t) external pure {
        if (a < b && t > 0) {
            unchecked {
                assert(uint256(a) * t < uint256(b) * t);
            }
        }
    }

    /// @notice x <= y * d implies x / d <= y, for every x of 256 bits and every y, d > 0 below 2^128.
    function check_divAtMost(uint256 x, uint128 y, uint128 d) external pure {
        unchecked {
            if (d > 0 && x <= uint256(y) * d) assert(x / d <= y);
        }
    }
}
