// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";
import {RebalanceLogic} from "../libraries/RebalanceLogic.sol";

/// @title RebalanceLogicHarness
/// @notice Tests only: RebalanceLogic.decide as an external view, so the rebalance decision's edges can be
/// compared with the reference model on any inputs without a token in that state.
contract RebalanceLogicHarness {
    /// @notice RebalanceLogic.decide with the same arguments.
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
    ) external pure returns (ILeveragedToken.Action, ILeveragedToken.Reason) {
        return RebalanceLogic.decide(
            leverage, targetLeverage, offTarget, iterating, intervalElapsed, leverageMin, leverageMax, ripcordLeverage, minDrift
        );
    }
}
