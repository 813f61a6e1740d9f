// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title SettlementMath
/// @notice How one settlement's trade cost is shared (DESIGN.md 7.6): deposits and redemptions net into one
/// venue trade, and each side pays the trade's actual cost in proportion to what its own trade would cost
/// alone, rounded up, so the holders who did nothing pay nothing (the two rounded-up shares exceed the cost by at most one unit, which the holders keep).
library SettlementMath {
    /// @param cost The netted trade's cost, collateral units (the venue's exact quote).
    /// @param quoteD Fee plus impact of the deposits' hedge traded alone.
    /// @param quoteR Fee plus impact of the redemptions' close traded alone.
    /// @param hasD Whether deposits settle; @param hasR Whether redemptions settle.
    /// @return costD The deposit side's share; @return costR The redemption side's share.
    /// @dev A side settling alone pays the whole cost. With both and no quoted cost (a venue without fee or
    /// impact) the cost is only a rounding unit, which the redemption side pays.
    function split(uint256 cost, uint256 quoteD, uint256 quoteR, bool hasD, bool hasR)
        internal
        pure
        returns (uint256 costD, uint256 costR)
    {
        if (!hasR) return (cost, 0);
        if (!hasD) return (0, cost);
        uint256 total = quoteD + quoteR;
        if (total == 0) return (0, cost);
        costD = Math.mulDiv(cost, quoteD, total, Math.Rounding.Ceil);
        costR = Math.mulDiv(cost, quoteR, total, Math.Rounding.Ceil);
    }
}
