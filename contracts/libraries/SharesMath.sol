// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMath as FPM} from "./FixedPointMath.sol";

/// @title SharesMath
/// @notice The one conversion between shares and assets of a pool valued at `totalAssets`, named by its
/// rounding; the token's shares and the venue's LP shares both use it.
/// @dev Virtual shares and one virtual asset make the first depositor's share price hard to inflate: a
/// donation that moves it must be about `virtualShares` times larger than what it could take.
library SharesMath {
    /// @dev Shares worth `assets`, rounded down.
    function toSharesDown(uint256 assets, uint256 totalAssets, uint256 totalShares, uint256 virtualShares)
        internal
        pure
        returns (uint256)
    {
        return FPM.mulDivDown(assets, totalShares + virtualShares, totalAssets + 1);
    }

    /// @dev Shares worth `assets`, rounded up.
    function toSharesUp(uint256 assets, uint256 totalAssets, uint256 totalShares, uint256 virtualShares)
        internal
        pure
        returns (uint256)
    {
        return FPM.mulDivUp(assets, totalShares + virtualShares, totalAssets + 1);
    }

    /// @dev Assets `shares` are worth, rounded down.
    function toAssetsDown(uint256 shares, uint256 totalAssets, uint256 totalShares, uint256 virtualShares)
        internal
        pure
        returns (uint256)
    {
        return FPM.mulDivDown(shares, totalAssets + 1, totalShares + virtualShares);
    }

    /// @dev Assets `shares` are worth, rounded up.
    function toAssetsUp(uint256 shares, uint256 totalAssets, uint256 totalShares, uint256 virtualShares)
        internal
        pure
        returns (uint256)
    {
        return FPM.mulDivUp(shares, totalAssets + 1, totalShares + virtualShares);
    }
}
