// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proof} from "./Proof.sol";
import {HedgeMath} from "levtoken/libraries/HedgeMath.sol";
import {FixedPointMath as FPM} from "levtoken/libraries/FixedPointMath.sol";

/// @title HedgeMathProofs
/// @notice HedgeMath rounds every size toward zero and keeps its sign. Bounds: sizes and leverages are int128
/// (|x| < 2^127), prices, equity, assets, fees and shares uint128, unless a check says otherwise. "r rounds x/y
/// toward zero" is stated without division: |r| * y <= |x| and |x| < (|r| + 1) * y, with r's sign that of x.
contract HedgeMathProofs is Proof {
    function _sameSignOrZero(int256 r, int256 x) internal pure returns (bool) {
        return r == 0 || (r > 0) == (x > 0);
    }

    /// @notice leverage(size, price, equityWad) rounds size * price / equityWad toward zero, for every input
    /// whose |size| * price / equityWad is below 2^255 (see the report: withSign's int256 cast wraps above).
    function check_leverageRoundsTowardZero(int128 size, uint128 price, uint128 equityWad) external pure {
        vm.assume(equityWad > 0);
        uint256 m = FPM.abs(size);
        assert(fits(m, price));
        vm.assume(FPM.mulDivDown(m, price, equityWad) < 2 ** 255);
        int256 r = HedgeMath.leverage(size, price, equityWad);
        uint256 absR = FPM.abs(r);
        unchecked {
            assert(absR * equityWad <= m * price);
            assert(m * price - absR * equityWad < equityWad); // so m * price < (|r| + 1) * equityWad
        }
        assert(_sameSignOrZero(r, size));
    }

    /// @notice targetSize(equityWad, targetLeverage, price) rounds equityWad * targetLeverage / price toward
    /// zero, for every input whose quotient is below 2^255.
    function check_targetSizeRoundsTowardZero(uint128 equityWad, int128 targetLeverage, uint128 price) external pure {
        vm.assume(price > 0);
        uint256 m = FPM.abs(targetLeverage);
        assert(fits(equityWad, m));
        vm.assume(FPM.mulDivDown(equityWad, m, price) < 2 ** 255);
        int256 r = HedgeMath.targetSize(equityWad, targetLeverage, price);
        uint256 absR = FPM.abs(r);
        unchecked {
            assert(absR * price <= uint256(equityWad) * m);
            assert(uint256(equityWad) * m - absR * price < price); // so equityWad * m < (|r| + 1) * price
        }
        assert(_sameSignOrZero(r, targetLeverage));
    }

    /// @notice proRata(size, shares, totalShares) rounds size * shares / totalShares toward zero, has the sign of
    /// size and |r| <= |size|; with shares >= totalShares it is the whole size.
    function check_proRataRoundsTowardZero(int128 size, uint128 shares, uint128 totalShares) external pure {
        vm.assume(totalShares > 0);
        uint256 m = FPM.abs(size);
        assert(fits(m, shares));
        int256 r = HedgeMath.proRata(size, shares, totalShares);
        if (shares >= totalShares) {
            assert(r == size);
            return;
        }
        uint256 absR = FPM.abs(r);
        unchecked {
            assert(absR * totalShares <= m * shares);
            assert(m * shares - absR * totalShares < totalShares); // so m * shares < (|r| + 1) * totalShares
        }
        assert(_sameSignOrZero(r, size));
        unchecked {
            // |r| = |size| * shares / totalShares <= |size|, as shares < totalShares
            mulMonotone(shares, totalShares, m);
            divAtMost(m * shares, m, totalShares);
        }
        assert(absR <= m);
    }

    /// @notice hedgeSize(gross, assets, fee, impact) has the sign of gross and |r| <= |gross|; it is 0 when the
    /// cost reaches the assets; otherwise it lies between gross * assets / (assets + fee + impact) and
    /// gross * assets / (assets + fee), rounded toward zero: |r| * (assets + fee) <= |gross| * assets <
    /// (|r| + 1) * (assets + fee + impact). Bounds: assets, fee and impact below 2^120 (collateral units).
    function check_hedgeSizeShrinksGrossTowardZero(int128 gross, uint120 assets, uint120 fee, uint120 impact)
        external
        pure
    {
        uint256 m = FPM.abs(gross);
        assert(fits(impact, assets) && fits(m, assets));
        int256 r = HedgeMath.hedgeSize(gross, assets, fee, impact);
        uint256 absR = FPM.abs(r);
        if (uint256(fee) + impact >= assets) {
            assert(r == 0);
            return;
        }
        unchecked {
            uint256 upper = uint256(assets) + fee + impact;
            assert(absR * (uint256(assets) + fee) <= m * assets);
            assert(absR * upper + upper > m * assets); // (|r| + 1) * (assets + fee + impact) > |gross| * assets
        }
        assert(_sameSignOrZero(r, gross));
        unchecked {
            // |r| = |gross| * assets / denominator <= |gross|, as denominator >= assets
            uint256 upper = uint256(assets) + fee + impact;
            mulMonotone(assets, upper, impact);
            divAtMost(uint256(impact) * assets, impact, upper); // impactAtSize <= impact
            uint256 denominator = uint256(assets) + fee + uint256(impact) * assets / upper;
            mulMonotone(assets, denominator, m);
            divAtMost(m * assets, m, denominator);
        }
        assert(absR <= m);
    }

    /// @dev netOfCost's properties for target = ±targetSize and delta = ±deltaSize: r has the sign of delta or is
    /// zero (the trade never turns around); a trade that adds exposure only shrinks (|r| <= |delta|), one that
    /// removes exposure only grows (|r| >= |delta|).
    function _netOfCostKeepsDirection(
        int256 target,
        int256 delta,
        uint256 equityUnits,
        uint256 fee,
        uint256 impact
    ) internal pure {
        uint256 scaled = equityUnits * FPM.abs(delta); // as netOfCost computes it
        assert(fits(impact, scaled) && fits(FPM.abs(delta), scaled));
        int256 r = HedgeMath.netOfCost(target, delta, equityUnits, fee, impact);
        assert(_sameSignOrZero(r, delta));
        bool addsExposure = (delta > 0) == (target > 0);
        if (addsExposure) assert(FPM.abs(r) <= FPM.abs(delta));
        else assert(FPM.abs(r) >= FPM.abs(delta));
    }

    /// @notice netOfCost(target, delta, equityUnits, fee, impact) with target and delta in the same direction (both
    /// long or both short, either possibly zero) never turns the trade around, and a trade that adds exposure
    /// only shrinks: |r| <= |delta|. Bounds: |target| < 2^120, |delta| < 2^96 (sizes of 18 decimals), equity units,
    /// fee and impact below 2^64 (collateral units). Sizes come as magnitude and direction, so that the solvers
    /// see |target| and |delta| as the magnitudes themselves.
    function pending_netOfCostSameDirection(
        uint120 targetSize,
        uint96 deltaSize,
        bool short,
        uint64 equityUnits,
        uint64 fee,
        uint64 impact
    ) external pure {
        int256 target = short ? -int256(uint256(targetSize)) : int256(uint256(targetSize));
        int256 delta = short ? -int256(uint256(deltaSize)) : int256(uint256(deltaSize));
        _netOfCostKeepsDirection(target, delta, equityUnits, fee, impact);
    }

    /// @notice netOfCost with target and delta in opposite directions (one long, the other short, either possibly
    /// zero) never turns the trade around, and a trade that removes exposure only grows: |r| >= |delta|. Same
    /// bounds as pending_netOfCostSameDirection, every input (netOfCost reverted near its singular point until
    /// its impact weight stopped at equity * |delta|; tests/model/test_hedge_math.py reproduces that input).
    function pending_netOfCostOppositeDirections(
        uint120 targetSize,
        uint96 deltaSize,
        bool targetShort,
        uint64 equityUnits,
        uint64 fee,
        uint64 impact
    ) external pure {
        int256 target = targetShort ? -int256(uint256(targetSize)) : int256(uint256(targetSize));
        int256 delta = targetShort ? int256(uint256(deltaSize)) : -int256(uint256(deltaSize));
        _netOfCostKeepsDirection(target, delta, equityUnits, fee, impact);
    }
}
