// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {OracleLib} from "../libraries/OracleLib.sol";

/// @notice Morpho Blue's oracle interface (morpho-blue src/interfaces/IOracle.sol): the price of 1 unit of collateral
/// in units of the loan token, scaled by 1e36.
interface IMorphoOracle {
    /// @notice 1e36 * loan-token units per collateral unit.
    function price() external view returns (uint256);
}

/// @title FeedOracle
/// @notice A lending market's price from the same Chainlink-compatible feed the perpetual venue reads: the feed's
/// latest answer (checked complete, positive and within `heartbeat`, as the venue checks it) in Morpho Blue's form,
/// loan-token units per collateral unit scaled by 1e36, for a collateral and a loan token of any decimals.
/// @dev price = answer * 10^(36 + loanDecimals - collateralDecimals - feedDecimals), rounded down: a collateral's
/// value is never overstated. For a short (stablecoin collateral, the asset borrowed) `inverse` prices the stablecoin
/// in the asset: 10^(36 + loanDecimals - collateralDecimals + feedDecimals) / answer, rounded down.
contract FeedOracle is IMorphoOracle {
    /// @notice The feed read.
    AggregatorV3Interface public immutable feed;
    /// @notice Seconds an answer stays valid.
    uint256 public immutable heartbeat;
    /// @notice Whether the collateral is the feed's quote (a stablecoin) and the loan its base (the asset).
    bool public immutable inverse;
    /// @dev 10^(36 + loanDecimals - collateralDecimals -/+ feedDecimals): the scale of the answer (or of its inverse).
    uint256 internal immutable scale;

    /// @param feed_ The asset's USD feed.
    /// @param heartbeat_ Seconds an answer stays valid.
    /// @param collateralDecimals Decimals of the market's collateral token.
    /// @param loanDecimals Decimals of the market's loan token.
    /// @param inverse_ True when the collateral is the stablecoin and the loan the asset (a short).
    constructor(AggregatorV3Interface feed_, uint256 heartbeat_, uint8 collateralDecimals, uint8 loanDecimals,
        bool inverse_) {
        feed = feed_;
        heartbeat = heartbeat_;
        inverse = inverse_;
        uint8 feedDecimals = feed_.decimals();
        scale = inverse_
            ? 10 ** (36 + uint256(loanDecimals) + feedDecimals - collateralDecimals)
            : 10 ** (36 + uint256(loanDecimals) - collateralDecimals - feedDecimals);
    }

    /// @inheritdoc IMorphoOracle
    function price() external view returns (uint256) {
        uint256 answer = OracleLib.readWad(feed, heartbeat, 1); // the raw answer, checked
        return inverse ? scale / answer : answer * scale;
    }
}
