// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title ITokenVenue
/// @notice What a leveraged token asks of the venue that holds its exposure, and what its factory asks at creation:
/// a market's price and feed, the token's account (value, signed size, price), an exact quote of a change from a
/// view, and the change itself. Two venues implement it: the perpetual-futures PerpVenue and the money-market
/// MoneyMarketVenue (a lending market and a DEX).
/// @dev Size is the exposure in the asset, 18 decimals, negative for a short; value is in collateral units. A quote
/// and the call that follows it in the same block agree to the unit.
interface ITokenVenue {
    /// @dev Only registered accounts (the factory's tokens) modify positions in one step.
    error NotRegistered(address account);
    /// @dev Only the owner or the registrar registers accounts.
    error NotRegistrar(address caller);
    /// @dev A market parameter is outside its bounds (or, in a money market, does not fit the others); `name` is
    /// its MarketConfig field. Fields are checked in struct order and the first that fails is named.
    error InvalidConfig(string name);

    event AccountRegistered(address indexed account, bool registered);

    /// @notice Owner or registrar: lets `account` hold a position and change it in one step (`registered`), or
    /// stops it.
    function register(address account, bool registered) external;

    /// @notice Whether `account` holds a position and changes it in one step.
    function isRegistered(address account) external view returns (bool);

    /// @notice The account that may register accounts besides the owner (the token factory).
    function registrar() external view returns (address);

    /// @notice The ERC-20 collateral all margin is held in.
    function collateral() external view returns (IERC20);

    /// @notice Symbol of market `marketId`'s asset, e.g. "BTC".
    function marketSymbol(uint256 marketId) external view returns (string memory);

    /// @notice Number of listed markets; ids run from 1 to this.
    function marketCount() external view returns (uint256);

    /// @notice The price feed a market reads now and its heartbeat (seconds): what a consumer that follows the
    /// market's rounds reads, never a copy that a config change could leave stale.
    function marketFeed(uint256 marketId) external view returns (AggregatorV3Interface feed, uint256 heartbeat);

    /// @notice Validated oracle price of market `marketId` (18 decimals).
    function indexPrice(uint256 marketId) external view returns (uint256);

    /// @notice Value, size and validated oracle price of `account` in market `marketId`.
    /// @dev Reads the oracle only when the account has a position; with no position `price` is 0,
    /// so an account without exposure can be valued (and withdrawn) even while the oracle is stale.
    /// @return value What the account is worth at the oracle price, in collateral units, rounded down.
    /// @return size Signed position size (18 decimals; negative is short).
    /// @return price Oracle price (18 decimals), 0 when the account has no position.
    function accountState(uint256 marketId, address account) external view returns (int256 value, int256 size, uint256 price);

    /// @notice Deposits margin, trades, then withdraws margin for msg.sender's account, in that order.
    /// @param marketId Market id.
    /// @param marginDelta Positive: collateral pulled from msg.sender first; negative: sent to `to` last.
    /// @param sizeDelta Signed change of the position size.
    /// @param to Receiver of withdrawn margin.
    /// @return valueBefore Account value before (after accrual of funding or interest, which does not change it).
    /// @return valueAfter Account value after.
    function modifyPosition(uint256 marketId, int256 marginDelta, int256 sizeDelta, address to)
        external
        returns (int256 valueBefore, int256 valueAfter);

    /// @notice Execution price and cost (fee + impact, collateral units) of a trade of `sizeDelta` now.
    function quoteTrade(uint256 marketId, int256 sizeDelta)
        external
        view
        returns (uint256 price, uint256 executionPrice, uint256 fee, uint256 impact);

    /// @notice What modifyPosition would do now, from the same arithmetic: exact to the unit.
    function quoteModify(uint256 marketId, address account, int256 marginDelta, int256 sizeDelta)
        external
        view
        returns (int256 valueBefore, int256 valueAfter, uint256 price);
}
