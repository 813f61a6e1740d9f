// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proof} from "./Proof.sol";
import {SharesMath} from "levtoken/libraries/SharesMath.sol";

/// @title SharesMathProofs
/// @notice Rounding of SharesMath for all inputs within realistic bounds: assets, total assets and shares below
/// 2^128 (uint128), total shares below 2^120 (uint120: 1.3e18 tokens of 18 decimals), virtual shares 1 to 1e18
/// (the token uses 1 and 1e12). With S = totalShares + virtualShares and A = totalAssets + 1, toShares is a * S / A and toAssets is
/// s * A / S.
contract SharesMathProofs is Proof {
    function _pool(uint120 totalShares, uint64 virtualShares) internal pure returns (uint256 S) {
        vm.assume(virtualShares >= 1 && virtualShares <= 1e18);
        S = uint256(totalShares) + virtualShares; // below 2^121
    }

    /// @notice Assets to shares and back, both rounded down, never gain: toAssetsDown(toSharesDown(a)) <= a. Bounds
    /// narrower than the other checks' (assets below 2^88, about 3e20 dollars of a 6-decimal collateral; total assets
    /// below 2^64; total shares below 2^96, 8e10 tokens): the shares' product with the total assets is then below 2^256
    /// by the widths alone, which is what lets the solvers see that the second conversion stays in 256 bits.
    function check_assetsRoundTripNeverGains(uint88 a, uint64 totalAssets, uint96 totalShares, uint64 virtualShares)
        external
        pure
    {
        vm.assume(virtualShares >= 1 && virtualShares <= 1e18);
        uint256 S = uint256(totalShares) + virtualShares; // below 2^97
        uint256 A = uint256(totalAssets) + 1;
        assert(fits(a, S));
        uint256 s = SharesMath.toSharesDown(a, totalAssets, totalShares, virtualShares);
        assert(fits(s, A)); // s * A <= a * S
        uint256 back = SharesMath.toAssetsDown(s, totalAssets, totalShares, virtualShares);
        unchecked {
            assert(s * A <= a * S); // s = floor(a * S / A)
            divAtMost(s * A, a, S); // so back = floor(s * A / S) <= a
        }
        assert(back <= a);
    }

    /// @notice Shares to assets and back, both rounded down, never gain: toSharesDown(toAssetsDown(s)) <= s.
    function check_sharesRoundTripNeverGains(uint128 s, uint128 totalAssets, uint120 totalShares, uint64 virtualShares)
        external
        pure
    {
        uint256 S = _pool(totalShares, virtualShares);
        uint256 A = uint256(totalAssets) + 1;
        assert(fits(s, A));
        uint256 a = SharesMath.toAssetsDown(s, totalAssets, totalShares, virtualShares);
        assert(fits(a, S)); // a * S <= s * A
        uint256 back = SharesMath.toSharesDown(a, totalAssets, totalShares, virtualShares);
        unchecked {
            assert(a * S <= s * A);
            assert(back * A <= a * S);
            assert(back * A <= s * A);
        }
        assert(back <= s);
    }

    /// @notice toSharesUp(a) is toSharesDown(a) or one more: down <= up <= down + 1.
    function check_sharesUpIsDownOrOneMore(uint128 a, uint128 totalAssets, uint120 totalShares, uint64 virtualShares)
        external
        pure
    {
        uint256 S = _pool(totalShares, virtualShares);
        assert(fits(a, S));
        uint256 down = SharesMath.toSharesDown(a, totalAssets, totalShares, virtualShares);
        uint256 up = SharesMath.toSharesUp(a, totalAssets, totalShares, virtualShares);
        assert(down <= up && up <= down + 1);
    }

    /// @notice toAssetsUp(s) is toAssetsDown(s) or one more: down <= up <= down + 1.
    function check_assetsUpIsDownOrOneMore(uint128 s, uint128 totalAssets, uint120 totalShares, uint64 virtualShares)
        external
        pure
    {
        _pool(totalShares, virtualShares);
        assert(fits(s, uint256(totalAssets) + 1));
        uint256 down = SharesMath.toAssetsDown(s, totalAssets, totalShares, virtualShares);
        uint256 up = SharesMath.toAssetsUp(s, totalAssets, totalShares, virtualShares);
        assert(down <= up && up <= down + 1);
    }

    /// @notice Depositing a (shares minted rounded down) and at once redeeming those shares from the grown pool
    /// (rounded down) never returns more than a, so the holders who stay keep at least the value per share they
    /// had. Bounds: also the pool after the deposit below 2^128 (total assets + a, total shares + virtual + minted
    /// shares), and the redemption's product minted * (totalAssets + a + 1) fitting in 256 bits (true unless
    /// S / A is huge: with A = 1 and a, S near 2^127 it does not fit, and mulDiv takes its 512-bit branch).
    function check_depositThenRedeemNeverGains(uint128 a, uint128 totalAssets, uint120 totalShares, uint64 virtualShares)
        external
        pure
    {
        uint256 S = _pool(totalShares, virtualShares);
        uint256 A = uint256(totalAssets) + 1;
        vm.assume(uint256(totalAssets) + a < 2 ** 128);
        assert(fits(a, S));
        uint256 minted = SharesMath.toSharesDown(a, totalAssets, totalShares, virtualShares);
        vm.assume(S + minted < 2 ** 128);
        uint256 A2 = A + a; // totalAssets + a + 1
        uint256 S2 = S + minted; // totalShares + minted + virtualShares
        vm.assume(fits(minted, A2));
        uint256 out = SharesMath.toAssetsDown(minted, uint256(totalAssets) + a, uint256(totalShares) + minted, virtualShares);
        unchecked {
            assert(minted * A <= a * S); // minted = floor(a * S / A)
            assert(out * S2 <= minted * A2); // out = floor(minted * A2 / S2)
            // minted * A2 = minted * A + minted * a <= a * S + a * minted = a * S2
            assert(minted * A2 <= a * S2);
            assert(out * S2 <= a * S2);
        }
        assert(out <= a);
    }
}
