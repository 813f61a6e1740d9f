// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HedgeMath} from "../libraries/HedgeMath.sol";

/// @title HedgeMathHarness
/// @notice Tests only: HedgeMath's sizing as external views, so it can be compared with the reference model on
/// any inputs, including ones no token reaches in a test's lifetime.
contract HedgeMathHarness {
    /// @notice HedgeMath.netOfCost with the same arguments.
    function netOfCost(int256 target, int256 delta, uint256 equityUnits, uint256 fee, uint256 impact)
        external
        pure
        returns (int256)
    {
        return HedgeMath.netOfCost(target, delta, equityUnits, fee, impact);
    }

    /// @notice HedgeMath.hedgeSize with the same arguments.
    function hedgeSize(int256 gross, uint256 assets, uint256 fee, uint256 impact) external pure returns (int256) {
        return HedgeMath.hedgeSize(gross, assets, fee, impact);
    }
}
