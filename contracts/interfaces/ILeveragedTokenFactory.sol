// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILeveragedToken} from "./ILeveragedToken.sol";
import {ITokenVenue} from "./ITokenVenue.sol";

/// @title ILeveragedTokenFactory
/// @notice Creates leveraged tokens at deterministic (CREATE2) addresses, one per (market, target
/// leverage), and keeps the registry indexers and tooling read.
/// @dev Each token is an EIP-1167 clone of one LeveragedToken implementation (fixed at the factory's
/// deployment), with the token's constants (this factory, venue, collateral, market, target and hard cap,
/// collateral scale) as the clone's immutable arguments, initialized in the same transaction. A clone has
/// no upgrade path: it runs the implementation it was created with for ever. Its address follows from the
/// implementation, its arguments and the salt keccak256(marketId, targetLeverage). Warning: the factory
/// owner decides which tokens exist and is their admin; tokens are deployed with the owner as admin.
interface ILeveragedTokenFactory {
    /// @notice What to create.
    struct TokenSpec {
        uint256 marketId;
        int256 targetLeverage; // WAD, signed
        uint256 maxLeverage; // immutable hard cap, WAD (0: twice |target|)
        ILeveragedToken.Params params;
        address keeper;
        address guardian;
    }

    // UnknownMarket (the market is not listed) and LeverageOutOfRange (zero, or not a multiple of 0.1x)
    // are declared once in Errors.sol.

    /// @dev A token for this (market, leverage) already exists.
    error TokenExists(address token);

    event TokenCreated(
        address indexed token, uint256 indexed marketId, int256 indexed targetLeverage, string name, string symbol
    );

    /// @notice The venue every token of this factory trades on.
    function venue() external view returns (ITokenVenue);

    /// @notice The LeveragedToken implementation every token of this factory is a clone of.
    function implementation() external view returns (address);

    /// @notice Creates a token (a clone of `implementation`) and initializes it. Owner only.
    /// @param spec Market, leverage, parameters and roles.
    /// @return token The new token's address, equal to predictAddress(spec).
    function createToken(TokenSpec calldata spec) external returns (address token);

    /// @notice The address createToken(spec) deploys to (parameters and roles do not change it).
    function predictAddress(TokenSpec calldata spec) external view returns (address);

    /// @notice Default parameters for a target leverage: geometric band L_min = L^2 / L_max with
    /// L_max = 4/3 |L|, ripcord at 3/2 |L|, daily rebalance, 1% minimum drift, 0.01%/day streaming fee,
    /// 0.1% mint and redeem fees, rebalance trades capped at 1,000,000 and a 10 (collateral units) bounty.
    function defaultParams(int256 targetLeverage, address feeRecipient)
        external
        view
        returns (ILeveragedToken.Params memory);

    /// @notice Token for (market, leverage), or the zero address.
    function tokenFor(uint256 marketId, int256 targetLeverage) external view returns (address);

    /// @notice Number of tokens created.
    function tokenCount() external view returns (uint256);

    /// @notice Token number `index` in creation order.
    function tokens(uint256 index) external view returns (address);

    /// @notice Name and symbol a token gets, e.g. ("BTC 3x Long", "BTC3L") or ("BTC 1x Short", "BTC1S").
    function tokenName(uint256 marketId, int256 targetLeverage)
        external
        view
        returns (string memory name, string memory symbol);
}
