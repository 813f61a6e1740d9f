// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title ScriptedFeed
/// @notice An AggregatorV3 feed for tests whose rounds carry any `updatedAt` (a lagging adapter's, as Pyth,
/// RedStone or API3 adapters publish: the round lands in a later block than its timestamp), and that can be
/// made to revert on every read (a broken feed).
contract ScriptedFeed is AggregatorV3Interface {
    uint80 internal _roundId;
    int256 internal _answer;
    uint256 internal _updatedAt;
    bool public reverts;

    error FeedDown();

    /// @notice Publishes `answer` (8 decimals) as a new round timestamped `updatedAt`.
    function publish(int256 answer, uint256 updatedAt) external {
        (_roundId, _answer, _updatedAt) = (_roundId + 1, answer, updatedAt);
    }

    /// @notice Makes every read revert (true) or answer again (false).
    function setReverts(bool reverts_) external {
        reverts = reverts_;
    }

    /// @notice 8, as Chainlink's USD feeds.
    function decimals() external pure returns (uint8) {
        return 8;
    }

    /// @notice A label for tooling.
    function description() external pure returns (string memory) {
        return "scripted";
    }

    /// @notice The interface version.
    function version() external pure returns (uint256) {
        return 4;
    }

    /// @notice The latest round (only that one is kept).
    function getRoundData(uint80) external view returns (uint80, int256, uint256, uint256, uint80) {
        return latestRoundData();
    }

    /// @notice The latest round; reverts FeedDown while the feed is made to revert.
    function latestRoundData() public view returns (uint80, int256, uint256, uint256, uint80) {
        if (reverts) revert FeedDown();
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }
}
