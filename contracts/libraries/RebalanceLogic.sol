// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";
import {FixedPointMath as FPM} from "./FixedPointMath.sol";

/// @title RebalanceLogic
/// @notice The rebalance decision: which action is due and why. The first that applies wins: ripcord
/// (|leverage| at the ripcord limit), iteration (a capped rebalance not yet at target), band (|leverage|
/// outside the band), time (an interval has passed and leverage drifted at least `minDrift` from target).
/// @dev The parameters come in one by one (not as a Params struct) so the caller reads only the storage
/// slots the decision needs.
library RebalanceLogic {
    /// @param leverage Current signed leverage, WAD.
    /// @param targetLeverage Signed target leverage, WAD.
    /// @param offTarget Whether a trade toward the target size would change the position.
    /// @param iterating Whether a capped rebalance has not reached the target yet.
    /// @param intervalElapsed Whether a rebalance interval has passed since the last rebalance.
    /// @param leverageMin Params.leverageMin: lower edge of the band of |leverage|, WAD.
    /// @param leverageMax Params.leverageMax: upper edge of the band of |leverage|, WAD.
    /// @param ripcordLeverage Params.ripcordLeverage: |leverage| at which a ripcord is due, WAD.
    /// @param minDrift Params.minDrift: smallest |leverage - target| a time rebalance acts on, WAD.
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
}
