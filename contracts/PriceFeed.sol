// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @title PriceFeed
/// @notice A Chainlink AggregatorV3-compatible price feed whose answers are pushed by authorised
/// updaters: the local-chain and testnet stand-in for a real Chainlink feed (same read interface,
/// so consumers are unchanged when a real feed replaces it).
/// @dev Warning: updaters are trusted with the price. Consumers must still validate every answer
/// (positive, complete round, fresh), which levtoken does in OracleLib.
contract PriceFeed is AggregatorV3Interface, AccessControl {
    /// @notice Role allowed to push answers.
    bytes32 public constant UPDATER_ROLE = keccak256("UPDATER_ROLE");

    struct Round {
        int192 answer;
        uint64 updatedAt;
    }

    /// @dev An answer must be positive.
    error NonPositiveAnswer(int256 answer);
    /// @dev No round with this id has been published.
    error NoDataPresent(uint80 roundId);

    /// @notice A new round was published (same event as Chainlink's aggregators).
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @inheritdoc AggregatorV3Interface
    uint8 public immutable decimals;
    /// @inheritdoc AggregatorV3Interface
    string public description;
    /// @notice Id of the latest round (0 before the first answer).
    uint80 public latestRound;

    mapping(uint80 => Round) internal rounds;

    /// @param decimals_ Decimals of the answers (8 for USD pairs, like Chainlink).
    /// @param description_ Pair name, e.g. "BTC / USD".
    /// @param admin Receives the admin and updater roles.
    constructor(uint8 decimals_, string memory description_, address admin) {
        decimals = decimals_;
        description = description_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(UPDATER_ROLE, admin);
    }

    /// @notice Publishes a new answer as a new round, timestamped with the current block.
    /// @param answer Price with `decimals` decimals; must be positive.
    /// @return roundId Id of the new round.
    function submit(int256 answer) external onlyRole(UPDATER_ROLE) returns (uint80 roundId) {
        if (answer <= 0 || answer > type(int192).max) revert NonPositiveAnswer(answer);
        roundId = latestRound + 1;
        latestRound = roundId;
        rounds[roundId] = Round(int192(answer), uint64(block.timestamp));
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 4;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = rounds[roundId];
        if (round.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, round.answer, round.updatedAt, round.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Before the first answer this returns zeros (like a fresh Chainlink aggregator), which
    /// consumers reject as an incomplete round.
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 roundId = latestRound;
        Round memory round = rounds[roundId];
        return (roundId, round.answer, round.updatedAt, round.updatedAt, roundId);
    }
}
