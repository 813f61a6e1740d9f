// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath as FPM} from "./FixedPointMath.sol";

/// @title HedgeMath
/// @notice Leverage, target size and the size of a hedge net of its own cost. Pure: the venue's quote of
/// a trade's fee and impact (collateral units) comes in as arguments.
/// @dev Sizes are signed (18 decimals, negative is short), prices and leverage are WAD; `equityWad` is equity
/// scaled to 18 decimals, other amounts (assets, equity units, fee, impact) are collateral units. Every size
/// is rounded toward zero.
library HedgeMath {
    /// @dev `magnitude` with the sign of `sign` (positive when `sign` is zero); reverts if it does not fit.
    function withSign(int256 sign, uint256 magnitude) internal pure returns (int256) {
        int256 value = SafeCast.toInt256(magnitude);
        return sign < 0 ? -value : value;
    }

    /// @dev Signed leverage of a position of `size` at `price` on `equityWad` (> 0), rounded toward zero.
    function leverage(int256 size, uint256 price, uint256 equityWad) internal pure returns (int256) {
        return withSign(size, FPM.mulDivDown(FPM.abs(size), price, equityWad));
    }

    /// @dev Signed size that makes `equityWad` `targetLeverage` times exposed at `price`, rounded toward zero.
    function targetSize(uint256 equityWad, int256 targetLeverage, uint256 price) internal pure returns (int256) {
        return withSign(targetLeverage, FPM.mulDivDown(equityWad, FPM.abs(targetLeverage), price));
    }

    /// @dev Size that keeps leverage unchanged when `assets` join the equity: L * (assets - cost) / P,
    /// where cost is the fee and impact of the trade itself. The fee is proportional to size, so with
    /// `fee` + `impact` the quoted cost of the gross size `gross` = L * assets / P, the net size is
    /// gross * assets / (assets + cost); the impact, proportional to the square of size, is re-weighted
    /// once at that size. A deposit too small to pay for its own hedge joins the equity unhedged (0).
    function hedgeSize(int256 gross, uint256 assets, uint256 fee, uint256 impact) internal pure returns (int256) {
        if (fee + impact >= assets) return 0;
        // Impact grows with the square of size: weigh it at the first estimate's size (a Newton step).
        uint256 impactAtSize = FPM.mulDivDown(impact, assets, assets + fee + impact);
        return withSign(gross, FPM.mulDivDown(FPM.abs(gross), assets, assets + fee + impactAtSize));
    }

    /// @dev The trade toward `target` once its own cost has left the equity (`equityUnits`, collateral
    /// units). The fee is proportional to size and the impact to its square, so the quote of the gross
    /// trade `delta` (`fee`, `impact`) gives both rates: with q = |target| * cost / (equity * |delta|), the
    /// net trade is delta / (1 + q) when it adds exposure and delta / (1 - q) when it removes exposure,
    /// with the impact re-weighted once at that size.
    function netOfCost(int256 target, int256 delta, uint256 equityUnits, uint256 fee, uint256 impact)
        internal
        pure
        returns (int256)
    {
        uint256 absDelta = FPM.abs(delta);
        uint256 absTarget = FPM.abs(target);
        uint256 scaled = equityUnits * absDelta;
        bool addsExposure = (delta > 0) == (target > 0);
        uint256 denominator = _costDenominator(addsExposure, scaled, _costTerm(absTarget, fee, impact));
        if (denominator == 0) return delta;
        // Impact grows with the square of size: weigh it at the first estimate's size (a Newton step). Where
        // that weight would reach `scaled` (impact >= denominator, only when removing exposure near its cost),
        // the cost term reaches `scaled` too and no net trade exists: stop at `scaled` instead of overflowing.
        uint256 impactAtSize = impact < denominator ? FPM.mulDivDown(impact, scaled, denominator) : scaled;
        denominator = _costDenominator(addsExposure, scaled, _costTerm(absTarget, fee, impactAtSize));
        if (denominator == 0) return delta;
        return withSign(delta, FPM.mulDivDown(absDelta, scaled, denominator));
    }

    /// @dev The part of a position of `size` that `shares` of `totalShares` own (all of it when `shares`
    /// reaches the total), rounded toward zero.
    function proRata(int256 size, uint256 shares, uint256 totalShares) internal pure returns (int256) {
        if (shares >= totalShares) return size;
        return withSign(size, FPM.mulDivDown(FPM.abs(size), shares, totalShares));
    }

    /// @dev |target| * (fee + impact), saturating at the largest uint256 (a cost that large leaves no net trade).
    function _costTerm(uint256 absTarget, uint256 fee, uint256 impact) private pure returns (uint256) {
        return Math.saturatingMul(absTarget, Math.saturatingAdd(fee, impact));
    }

    function _costDenominator(bool addsExposure, uint256 scaled, uint256 costTerm) private pure returns (uint256) {
        if (addsExposure) return Math.saturatingAdd(scaled, costTerm);
        return scaled > costTerm ? scaled - costTerm : 0;
    }
}
