// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proof} from "./Proof.sol";
import {SettlementMath} from "levtoken/libraries/SettlementMath.sol";

/// @title SettlementMathProofs
/// @notice How SettlementMath.split shares a settlement's cost, for every cost and quote below 2^120 (collateral
/// units: 2^120 is about 1.3e36, far above any cost; the bounds keep every product within 256 bits and within the
/// lemmas of Lemmas.t.sol).
contract SettlementMathProofs is Proof {
    /// @notice With both sides settling and a quoted cost, the two shares cover the cost and over-collect by at
    /// most one unit: cost <= costD + costR <= cost + 1 (each is rounded up once).
    function check_splitBothSidesCoversCostWithinOneUnit(uint120 cost, uint120 quoteD, uint120 quoteR)
        external
        pure
    {
        uint256 total = uint256(quoteD) + quoteR;
        vm.assume(total > 0);
        assert(fits(cost, quoteD) && fits(cost, quoteR));
        (uint256 costD, uint256 costR) = SettlementMath.split(cost, quoteD, quoteR, true, true);
        uint256 sum = costD + costR;
        unchecked {
            // costD = ceil(cost * quoteD / total), costR = ceil(cost * quoteR / total)
            assert(costD * total >= uint256(cost) * quoteD && costD * total - uint256(cost) * quoteD < total);
            assert(costR * total >= uint256(cost) * quoteR && costR * total - uint256(cost) * quoteR < total);
            assert(sum * total >= uint256(cost) * total);
            assert(sum * total < (uint256(cost) + 2) * total);
        }
        mulStrictlyMonotone(sum, cost, total); // sum < cost would make sum * total < cost * total
        assert(sum >= cost);
        mulMonotone(uint256(cost) + 2, sum, total); // sum >= cost + 2 would make sum * total >= (cost + 2) * total
        assert(sum <= uint256(cost) + 1);
    }

    /// @notice With both sides settling, the deposits' share is at most the whole cost: costD <= cost (a side whose
    /// quote is the whole total pays exactly the cost). Same bounds.
    function check_splitDepositSideAtMostCost(uint120 cost, uint120 quoteD, uint120 quoteR) external pure {
        uint256 total = uint256(quoteD) + quoteR;
        vm.assume(total > 0);
        assert(fits(cost, quoteD) && fits(cost, quoteR));
        (uint256 costD,) = SettlementMath.split(cost, quoteD, quoteR, true, true);
        _atMostCost(costD, cost, quoteD, total);
    }

    /// @notice With both sides settling, the redemptions' share is at most the whole cost: costR <= cost. Same bounds.
    function check_splitRedemptionSideAtMostCost(uint120 cost, uint120 quoteD, uint120 quoteR) external pure {
        uint256 total = uint256(quoteD) + quoteR;
        vm.assume(total > 0);
        assert(fits(cost, quoteD) && fits(cost, quoteR));
        (, uint256 costR) = SettlementMath.split(cost, quoteD, quoteR, true, true);
        _atMostCost(costR, cost, quoteR, total);
    }

    /// @dev share = ceil(cost * quote / total) with quote <= total is at most cost: share * total < cost * quote +
    /// total <= (cost + 1) * total, so share < cost + 1.
    function _atMostCost(uint256 share, uint256 cost, uint256 quote, uint256 total) internal pure {
        mulMonotone(quote, total, cost);
        unchecked {
            assert(share * total - cost * quote < total);
            assert(share * total < (cost + 1) * total);
        }
        mulMonotone(cost + 1, share, total); // share > cost would make share * total >= (cost + 1) * total
        assert(share <= cost);
    }

    /// @notice A side settling alone pays exactly the whole cost and the other side nothing, for every cost and
    /// quote (no bound); with both sides but no quoted cost the redemption side pays it all.
    function check_splitOneSideAlonePaysExactlyTheCost(uint256 cost, uint256 quoteD, uint256 quoteR, bool hasD, bool hasR)
        external
        pure
    {
        vm.assume((hasD || hasR) && (hasD != hasR || quoteD == 0 && quoteR == 0));
        (uint256 costD, uint256 costR) = SettlementMath.split(cost, quoteD, quoteR, hasD, hasR);
        if (hasD && !hasR) assert(costD == cost && costR == 0);
        else assert(costD == 0 && costR == cost);
    }
}
