// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";
import {checkStep} from "../interfaces/Errors.sol";
import {FixedPointMath as FPM, WAD, BPS} from "./FixedPointMath.sol";
import {HedgeMath} from "./HedgeMath.sol";

/// @dev Most a mint or redeem fee rises in one change, 0.5% (half its maximum: two changes, two delays).
uint256 constant MAX_FEE_STEP_BPS = 50;
/// @dev Most the streaming fee rises in one change, 0.025% per day (a quarter of its maximum).
uint256 constant MAX_STREAMING_FEE_STEP = 2.5e14;
/// @dev Least trade cap a change may lower maxTradeNotional to, 10% of equity: a token must still reach its target
/// in a few trades after a large move.
uint256 constant MIN_TRADE_CAP_BPS = 1_000;

/// @title RebalanceLogic
/// @notice The rebalance decision: which action is due and why, how large one trade may be, when the
/// time schedule moves on, and the bounds the parameters must keep for the decision to hold (a band
/// around the target inside the ripcord limit, fees and caps within their maxima).
library RebalanceLogic {
    /// @notice The action due and why. The first that applies wins: ripcord (|leverage| at the ripcord limit),
    /// iteration (a capped rebalance not yet at target), band (|leverage| outside the band), time (an interval
    /// has passed and leverage drifted at least `minDrift` from target).
    /// @param leverage Current signed leverage, WAD.
    /// @param targetLeverage Signed target leverage, WAD.
    /// @param offTarget Whether a trade toward the target size would change the position.
    /// @param iterating Whether a capped rebalance has not reached the target yet.
    /// @param intervalElapsed Whether a rebalance interval has passed since the last rebalance.
    /// @param leverageMin Params.leverageMin: lower edge of the band of |leverage|, WAD.
    /// @param leverageMax Params.leverageMax: upper edge of the band of |leverage|, WAD.
    /// @param ripcordLeverage Params.ripcordLeverage: |leverage| at which a ripcord is due, WAD.
    /// @param minDrift Params.minDrift: smallest |leverage - target| a time rebalance acts on, WAD.
    /// @dev The parameters come one by one, not as a Params struct, so the caller reads only the storage
    /// slots the decision needs.
    function decide(
        int256 leverage,
        int256 targetLeverage,
        bool offTarget,
        bool iterating,
        bool intervalElapsed,
        uint256 leverageMin,
        uint256 leverageMax,
        uint256 ripcordLeverage,
        uint256 minDrift
    ) internal pure returns (ILeveragedToken.Action, ILeveragedToken.Reason) {
        uint256 absLeverage = FPM.abs(leverage);
        if (absLeverage >= ripcordLeverage) return (ILeveragedToken.Action.RIPCORD, ILeveragedToken.Reason.RIPCORD);
        if (iterating && offTarget) return (ILeveragedToken.Action.ITERATE, ILeveragedToken.Reason.ITERATION);
        if (absLeverage > leverageMax || absLeverage < leverageMin) {
            return (ILeveragedToken.Action.REBALANCE, ILeveragedToken.Reason.BAND);
        }
        if (intervalElapsed && FPM.abs(leverage - targetLeverage) >= minDrift && offTarget) {
            return (ILeveragedToken.Action.REBALANCE, ILeveragedToken.Reason.TIME);
        }
        return (ILeveragedToken.Action.NONE, ILeveragedToken.Reason.NONE);
    }

    /// @notice Reverts with InvalidParameter naming the first field of `p`, in struct order, outside its
    /// bounds: a band 0 < leverageMin < |target| < leverageMax with minDrift below leverageMax - |target|,
    /// ripcordLeverage above leverageMax and at most `maxLeverage`, an interval of a minute to a week, a
    /// settlement window of five minutes to a day, fees
    /// at most their maxima, a fee recipient, a non-zero trade cap and supply cap, a bounty at most `maxBounty`.
    function checkParams(
        ILeveragedToken.Params memory p,
        uint256 absTarget,
        uint256 maxLeverage,
        uint256 maxFeeBps,
        uint256 maxStreamingFeePerDay,
        uint256 maxBounty
    ) internal pure {
        if (p.leverageMax <= absTarget) revert ILeveragedToken.InvalidParameter("leverageMax");
        if (p.leverageMin == 0 || p.leverageMin >= absTarget) revert ILeveragedToken.InvalidParameter("leverageMin");
        if (p.ripcordLeverage <= p.leverageMax || p.ripcordLeverage > maxLeverage) {
            revert ILeveragedToken.InvalidParameter("ripcordLeverage");
        }
        if (p.minDrift >= p.leverageMax - absTarget) revert ILeveragedToken.InvalidParameter("minDrift");
        if (p.rebalanceInterval < 60 || p.rebalanceInterval > 7 days) {
            revert ILeveragedToken.InvalidParameter("rebalanceInterval");
        }
        if (p.settlementWindow < 5 minutes || p.settlementWindow > 1 days) {
            revert ILeveragedToken.InvalidParameter("settlementWindow");
        }
        if (p.mintFeeBps > maxFeeBps) revert ILeveragedToken.InvalidParameter("mintFeeBps");
        if (p.redeemFeeBps > maxFeeBps) revert ILeveragedToken.InvalidParameter("redeemFeeBps");
        if (p.streamingFeePerDay > maxStreamingFeePerDay) revert ILeveragedToken.InvalidParameter("streamingFeePerDay");
        if (p.feeRecipient == address(0)) revert ILeveragedToken.InvalidParameter("feeRecipient");
        if (p.maxTradeNotional == 0) revert ILeveragedToken.InvalidParameter("maxTradeNotional");
        if (p.ripcordBounty > maxBounty) revert ILeveragedToken.InvalidParameter("ripcordBounty");
        if (p.supplyCap == 0) revert ILeveragedToken.InvalidParameter("supplyCap");
    }

    /// @notice Bounds on one change of the parameters from `current` to `next`, for a token of `equityUnits`
    /// (collateral units): ConfigStepTooLarge for the first fee, in struct order, raised by more than its step
    /// (MAX_FEE_STEP_BPS, MAX_STREAMING_FEE_STEP); TradeCapBelowFloor when maxTradeNotional is lowered below
    /// MIN_TRADE_CAP_BPS of equity. Lowering a fee and raising the cap are never limited.
    function checkSteps(ILeveragedToken.Params memory current, ILeveragedToken.Params memory next, uint256 equityUnits)
        internal
        pure
    {
        checkStep("mintFeeBps", current.mintFeeBps, next.mintFeeBps, MAX_FEE_STEP_BPS);
        checkStep("redeemFeeBps", current.redeemFeeBps, next.redeemFeeBps, MAX_FEE_STEP_BPS);
        checkStep("streamingFeePerDay", current.streamingFeePerDay, next.streamingFeePerDay, MAX_STREAMING_FEE_STEP);
        uint256 floor = FPM.mulDivDown(equityUnits, MIN_TRADE_CAP_BPS, BPS);
        if (next.maxTradeNotional < current.maxTradeNotional && next.maxTradeNotional < floor) {
            revert ILeveragedToken.TradeCapBelowFloor(next.maxTradeNotional, floor);
        }
    }

    /// @notice `sizeDelta` cut to `maxNotionalWad` (18 decimals) of notional at `price`, rounded toward zero;
    /// `capped` when it was cut (the rest is left to the next, ITERATE, step).
    function capTrade(int256 sizeDelta, uint256 maxNotionalWad, uint256 price)
        internal
        pure
        returns (int256, bool capped)
    {
        uint256 maxSize = FPM.mulDivDown(maxNotionalWad, WAD, price);
        if (FPM.abs(sizeDelta) <= maxSize) return (sizeDelta, false);
        return (HedgeMath.withSign(sizeDelta, maxSize), true);
    }

    /// @notice `lastRebalance` after a completed rebalance at `now_`: moved on by whole intervals once an
    /// interval has passed, so the next time rebalance falls due a whole number of intervals after the last
    /// one, not an interval after whenever a keeper's transaction landed.
    function nextLastRebalance(uint256 lastRebalance, uint256 now_, uint256 interval) internal pure returns (uint256) {
        uint256 elapsed = now_ - lastRebalance;
        if (elapsed < interval) return lastRebalance;
        return lastRebalance + elapsed - elapsed % interval;
    }
}
