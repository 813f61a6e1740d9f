// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {InvalidPrice, StalePrice, IncompleteRound} from "../interfaces/Errors.sol";

/// @title OracleLib
/// @notice Reads a Chainlink-compatible feed and validates it the way every levtoken consumer must.
library OracleLib {
    /// @notice The latest price as an 18-decimal number, after checking it is positive, complete and fresh.
    /// @param feed The Chainlink-compatible feed.
    /// @param heartbeat The largest accepted age of the answer, in seconds.
    /// @param scale 10 ** (18 - feed decimals), cached by the caller.
    function readWad(AggregatorV3Interface feed, uint256 heartbeat, uint256 scale) internal view returns (uint256) {
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = feed.latestRoundData();
        if (updatedAt == 0 || answeredInRound < roundId) revert IncompleteRound(roundId);
        if (answer <= 0) revert InvalidPrice(answer);
        if (block.timestamp > updatedAt + heartbeat) revert StalePrice(updatedAt, heartbeat);
        return uint256(answer) * scale;
    }
}
