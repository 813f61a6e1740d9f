// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @dev The one cheat code the proofs use, at the address halmos (like forge) answers: `assume` drops every path
/// on which its condition is false, so a check's assertions are proved for exactly the inputs it allows.
interface Vm {
    function assume(bool condition) external pure;
}

/// @title Proof
/// @notice What the proofs share. halmos runs every `check_` function with all of its arguments symbolic (every
/// value of their type) and proves that no input allowed by its `vm.assume`s reaches a failing `assert`, nor a
/// Panic for an arithmetic overflow (0x11) or a division by zero (0x12): within a check's bounds the library
/// never reverts, so no property holds vacuously (halmos.toml sets --panic-error-codes).
/// @dev Bounds come as narrow parameter types (uint128 amounts, uint64 virtual shares): the solvers reason far
/// better about a value whose high bits are zero than about the same value under a `<` bound.
abstract contract Proof {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Whether x * y fits in 256 bits, computed as OpenZeppelin's Math.mulDiv(x, y, d) computes it (the high
    /// word of Math.mul512(x, y) is zero). Before each mulDiv the proofs assert this of its arguments (a proof
    /// that the bounds imply it), or assume it where the bounds do not (said at each such check): that fact, the
    /// very term of mulDiv's branch condition, closes its 512-bit branch (division through a modular inverse,
    /// which no SMT solver decides in useful time) and leaves `x * y / d`.
    function fits(uint256 x, uint256 y) internal pure returns (bool) {
        (uint256 high,) = Math.mul512(x, y);
        return high == 0;
    }

    /// @dev Multiplying by t keeps an order: a <= b implies a * t <= b * t, for a, b, t below 2^128, which
    /// `Lemmas.t.sol`'s check_mulMonotone proves for every such value. A check calls this to assume the lemma's
    /// instance at its own terms (cancelling a common factor is the step the solvers do not find alone); the
    /// instance's bounds are asserted, so the check proves that it stays within the lemma.
    function mulMonotone(uint256 a, uint256 b, uint256 t) internal pure {
        assert(a < 2 ** 128 && b < 2 ** 128 && t < 2 ** 128);
        unchecked {
            vm.assume(a > b || a * t <= b * t);
        }
    }

    /// @dev a < b and t > 0 imply a * t < b * t, for a, b, t below 2^128: check_mulStrictlyMonotone proves it.
    /// As mulMonotone, the instance's bounds are asserted.
    function mulStrictlyMonotone(uint256 a, uint256 b, uint256 t) internal pure {
        assert(a < 2 ** 128 && b < 2 ** 128 && t < 2 ** 128);
        unchecked {
            vm.assume(a >= b || t == 0 || a * t < b * t);
        }
    }

    /// @dev x <= y * d implies x / d <= y, for every x and every y, d > 0 below 2^128: check_divAtMost proves it.
    /// As mulMonotone, the instance's bounds are asserted.
    function divAtMost(uint256 x, uint256 y, uint256 d) internal pure {
        assert(y < 2 ** 128 && d < 2 ** 128);
        unchecked {
            vm.assume(d == 0 || x > y * d || x / d <= y);
        }
    }
}
