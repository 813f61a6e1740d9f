// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMorpho, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {DexQuoter} from "../venues/DexQuote.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {ITokenVenue} from "./ITokenVenue.sol";

/// @title IMoneyMarketVenue
/// @notice A token's exposure built in a lending market and traded through a DEX (DESIGN.md 12): a long holds the
/// asset as collateral in a Morpho Blue market and owes the venue's collateral (a stablecoin); a short holds the
/// stablecoin as collateral in a second market and owes the asset. A change of size is one swap in the market's
/// Uniswap v3 pool, whose callback (the pool's own flash liquidity) supplies, borrows, repays and withdraws, so one
/// call reaches the target. Each token's position is held by an account of its own (VenueAccount), which Morpho
/// values, charges interest and liquidates at its LLTV.
/// @dev Values are at the feed's price (the markets' oracles read the same feed): a long is worth
/// collateral * price (rounded down) - debt (rounded up) + cash, a short collateral + cash - debt * price (rounded
/// up). Size is the long's collateral or minus the short's debt, in the asset, 18 decimals. A swap whose whole cost
/// (the pool's fee included) could pass `maxSlippageBps` of its notional at the oracle price is refused
/// (SwapBeyondBound): that bound is the most a swap costs the token, sandwiched or not. Warning: the owner lists markets; Morpho, the pool and the feed are trusted.
interface IMoneyMarketVenue is ITokenVenue {
    /// @notice One market: the asset, its feed, its pool and the two lending markets.
    struct MarketConfig {
        AggregatorV3Interface feed; // the asset's USD feed, which both lending markets' oracles read
        uint32 heartbeat; // largest accepted age of the price, seconds
        uint16 maxSlippageBps; // the most a swap may cost, fee included, of its notional at the oracle price
        uint64 maxLtv; // WAD: the most debt per collateral value a change that adds exposure may leave
        address pool; // the asset/collateral Uniswap v3 pool
        MarketParams longMarket; // Morpho market lending the collateral against the asset
        MarketParams shortMarket; // Morpho market lending the asset against the collateral
    }

    /// @notice One account's side of a market, as Morpho holds it (interest accrued to now).
    struct Book {
        uint8 side; // 0 none yet, 1 long, 2 short
        uint256 collateral; // Morpho collateral: the asset (long) or the stablecoin (short), raw units
        uint256 debt; // Morpho debt, rounded up: the stablecoin (long) or the asset (short), raw units
        uint256 cash; // stablecoin the venue holds for the account (a long's proceeds beyond its debt)
        uint256 borrowShares; // Morpho borrow shares behind the debt
    }

    /// @dev The change would take a long below zero size or a short above it: an account keeps its side.
    error SideChange(int256 size, int256 sizeDelta);
    /// @dev The swap would move the pool past `limitPriceX96` (the oracle price moved by maxSlippageBps) before
    /// filling: the DEX is too far from the oracle, or too thin, for this size now.
    error SwapBeyondBound(uint160 limitPriceX96, uint256 oraclePrice);
    /// @dev The lending market has `available` to lend, fewer than the `needed` the change borrows.
    error InsufficientLiquidity(uint256 available, uint256 needed);
    /// @dev A change that adds exposure would leave `debt` above `maxDebt`, the collateral's value at maxLtv.
    error LtvAboveMax(uint256 debt, uint256 maxDebt);
    /// @dev The change would leave `debt` above `maxDebt`, what the lending market lends at its LLTV.
    error Unhealthy(uint256 debt, uint256 maxDebt);
    /// @dev A short's collateral and cash (`available`) cannot pay the `needed` the change takes out.
    error InsufficientCollateral(uint256 available, uint256 needed);
    /// @dev Only the pool a swap is under way in calls back.
    error NotPool(address caller);

    event MarketListed(uint256 indexed marketId, string symbol, MarketConfig config);
    event MarketConfigUpdated(uint256 indexed marketId, MarketConfig config);
    event RegistrarSet(address indexed registrar);
    /// @param account The token (its VenueAccount holds the position).
    /// @param stableAmount Stablecoin the swap paid (a buy) or received (a sale), raw units.
    event PositionModified(
        uint256 indexed marketId,
        address indexed account,
        int256 marginDelta,
        int256 sizeDelta,
        uint256 price,
        uint256 stableAmount,
        int256 valueBefore,
        int256 valueAfter
    );

    /// @notice Lists a market. Owner only. The pool must pair the asset with the collateral, the lending markets
    /// must exist in Morpho, lend each other's tokens with oracles that read `config.feed`, and have an LLTV above
    /// maxLtv.
    function listMarket(string calldata symbol, MarketConfig calldata config) external returns (uint256 marketId);

    /// @notice Changes a listed market's heartbeat, maxSlippageBps, maxLtv or pool. Owner only (the governance,
    /// after its delay). The feed and the two lending markets hold the tokens' loops and stay as listed
    /// (InvalidConfig naming the field); the rest is checked as a listing is, and maxSlippageBps and maxLtv rise by
    /// at most 50 bps and 0.05 a change (ConfigStepTooLarge). Open positions keep their collateral and debt; the
    /// new settings apply from the next change.
    function setMarketConfig(uint256 marketId, MarketConfig calldata config) external;

    /// @notice Owner: the account (the token factory) that may register accounts besides the owner.
    function setRegistrar(address registrar) external;

    /// @notice The lending market every position lives in.
    function morpho() external view returns (IMorpho);

    /// @notice The DexQuoter that quotes the pools' swaps from a view.
    function quoter() external view returns (DexQuoter);

    /// @notice Market `marketId`'s configuration.
    function marketConfig(uint256 marketId) external view returns (MarketConfig memory);

    /// @notice The account that holds `token`'s positions in Morpho (zero before registration).
    function accountOf(address token) external view returns (address);

    /// @notice `account`'s side, collateral, debt and cash in market `marketId`, interest accrued to now.
    function book(uint256 marketId, address account) external view returns (Book memory);

    /// @notice Whether Morpho would liquidate `account`'s position now: its debt above what its collateral lends at
    /// the LLTV (anyone may then call Morpho's `liquidate` on the account's VenueAccount).
    function isLiquidatable(uint256 marketId, address account) external view returns (bool);

    /// @notice Each lending market's borrow totals now, interest accrued: what a borrow share owes is
    /// totalBorrowAssets / totalBorrowShares (Morpho's SharesMathLib adds a virtual share and asset).
    function borrowTotals(uint256 marketId)
        external
        view
        returns (uint256 longAssets, uint256 longShares, uint256 shortAssets, uint256 shortShares);

    /// @notice Borrow rates now (WAD per second) of the long side's debt (the stablecoin) and the short side's (the
    /// asset): what a position pays in place of funding (Morpho's collateral earns nothing).
    function borrowRates(uint256 marketId) external view returns (uint256 longRate, uint256 shortRate);

    /// @notice Callback of the market's Uniswap v3 pool during a position's swap.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}
