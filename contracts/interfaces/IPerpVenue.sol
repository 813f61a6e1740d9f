// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {ITokenVenue} from "./ITokenVenue.sol";

/// @title IPerpVenue
/// @notice A perpetual-futures venue with oracle pricing, trading fee and price impact, skew-based
/// funding, initial and maintenance margin, permissionless liquidation and an LP pool as counterparty.
/// @dev Warning: the owner lists markets and sets their risk parameters (within hard bounds); the
/// price feeds are trusted for the mark price. The LP pool takes the other side of every trade. What a leveraged
/// token uses of it is ITokenVenue; registered accounts (the tokens) also trade and move liquidity in one step, exempt
/// from the open-interest cap.
interface IPerpVenue is ITokenVenue {
    /// @notice Risk and cost parameters of one market.
    struct MarketConfig {
        AggregatorV3Interface feed; // Chainlink-compatible price feed
        uint32 heartbeat; // largest accepted age of the price, seconds
        uint16 takerFeeBps; // trading fee on notional
        uint16 maxImpactBps; // cap on price impact
        uint16 initialMarginBps; // margin needed to open or increase, of notional
        uint16 maintenanceMarginBps; // below this an account can be liquidated
        uint16 liquidationPenaltyBps; // penalty of notional taken on liquidation
        uint16 liquidatorShareBps; // part of the penalty paid to the liquidator
        uint128 impactDepth; // notional (collateral units) at which impact would reach 100%
        uint128 maxFundingRatePerDay; // WAD fraction of notional per day, reached at full skew
        uint128 maxOpenInterest; // per side, in size units
    }

    /// @notice One account's position in one market.
    struct Position {
        int128 margin; // collateral units
        int128 size; // 18 decimals, signed
        int256 openNotional; // sum of size * price at entry (36 decimals), signed like size
        int128 fundingSnapshot; // funding index at the last settlement
    }

    /// @notice Aggregates of one market.
    struct MarketState {
        uint128 longOpenInterest;
        uint128 shortOpenInterest;
        int128 fundingIndex; // cumulative funding per unit of size (18-decimal USD per 1e18 size)
        uint64 lastFundingTime;
        int256 sumOpenNotional; // sum of all accounts' openNotional
        int256 sumFundingSnapshot; // sum of size * fundingSnapshot
        int256 longOpenNotional; // the part of sumOpenNotional held by long positions (the pool's reserve reads it)
    }

    // Errors shared with other contracts (ZeroAmount, SlippageExceeded, UnknownMarket) and the oracle's
    // (InvalidPrice, StalePrice, IncompleteRound) are declared once in Errors.sol.

    /// @dev The account would fall below initial margin (or below zero value).
    error InsufficientMargin(int256 value, uint256 required);
    /// @dev The margin balance cannot cover the withdrawal (unrealised profit cannot be withdrawn).
    error InsufficientFreeMargin(int256 margin, uint256 amount);
    /// @dev The LP pool cannot pay this profit or withdrawal.
    error InsufficientPoolLiquidity(uint256 available, uint256 needed);
    /// @dev The trade would take open interest on one side above the market's cap.
    error OpenInterestCapExceeded(uint256 openInterest, uint256 cap);
    /// @dev The account is above maintenance margin.
    error NotLiquidatable(int256 value, uint256 maintenance);
    /// @dev The LP holds fewer shares than asked.
    error InsufficientShares(uint256 balance, uint256 needed);
    /// @dev Only the venue's DelayedOrders executes for other accounts.
    error NotOrders(address caller);
    /// @dev The withdrawal would leave the pool less cash than the traders' unrealised profit.
    error PoolReserveBreached(uint256 cashLeft, uint256 owedToTraders);

    event RegistrarSet(address indexed registrar);
    event OrdersSet(address indexed orders);
    event MarketListed(uint256 indexed marketId, string symbol, address feed);
    event MarketConfigUpdated(uint256 indexed marketId, MarketConfig config);
    event MarginDeposited(uint256 indexed marketId, address indexed account, address indexed from, uint256 amount);
    event MarginWithdrawn(uint256 indexed marketId, address indexed account, address indexed to, uint256 amount);
    event FundingSettled(uint256 indexed marketId, address indexed account, int256 amount, int256 fundingIndex);
    /// @param executionPrice Oracle price moved against the trader by the price impact.
    /// @param fee Trading fee plus price impact, paid to the pool.
    /// @param realizedPnl Profit (or loss) realised by the reduced part of the position.
    event PositionModified(
        uint256 indexed marketId,
        address indexed account,
        int256 sizeDelta,
        int256 newSize,
        uint256 price,
        uint256 executionPrice,
        uint256 fee,
        int256 realizedPnl
    );
    event Liquidated(
        uint256 indexed marketId,
        address indexed account,
        address indexed liquidator,
        int256 size,
        uint256 price,
        uint256 penalty,
        uint256 liquidatorReward,
        uint256 badDebt
    );
    event LiquidityAdded(address indexed provider, uint256 amount, uint256 shares);
    event LiquidityRemoved(address indexed provider, uint256 amount, uint256 shares);

    /// @notice Lists a new market. Owner only.
    /// @param symbol Asset symbol used in token names, e.g. "BTC".
    /// @param config Risk parameters (bounded; see InvalidConfig).
    /// @return marketId The new market's id (1, 2, ...).
    function listMarket(string calldata symbol, MarketConfig calldata config) external returns (uint256 marketId);

    /// @notice Replaces a market's parameters (same bounds as listing). Owner only. A raise of a margin, the
    /// liquidation penalty or share, a fee or the funding cap is bounded per change (ConfigStepTooLarge);
    /// lowering is not.
    function setMarketConfig(uint256 marketId, MarketConfig calldata config) external;

    /// @notice Adds `amount` collateral to the margin of `account` in market `marketId` (anyone may top up any account).
    function depositMargin(uint256 marketId, address account, uint256 amount) external;

    /// @notice Withdraws margin of msg.sender to `to`; the account must stay above initial margin.
    function withdrawMargin(uint256 marketId, uint256 amount, address to) external;

    /// @notice Opens, increases, reduces, closes or flips msg.sender's position by `sizeDelta` at the latest price:
    /// registered accounts only (NotRegistered); everyone else requests through `orders()`.
    /// @param acceptablePrice Worst accepted execution price (0 for none): a maximum for buys, a minimum for sells.
    function trade(uint256 marketId, int256 sizeDelta, uint256 acceptablePrice) external;

    /// @notice `orders()` only: `trade` for `account`, executing its delayed order.
    function tradeFor(uint256 marketId, address account, int256 sizeDelta, uint256 acceptablePrice) external;

    /// @notice Owner: the account (the token factory) that may register accounts besides the owner.
    function setRegistrar(address registrar) external;

    /// @notice Owner: the DelayedOrders contract that executes other accounts' requests.
    function setOrders(address orders) external;


    /// @notice The DelayedOrders contract that executes other accounts' requests.
    function orders() external view returns (address);

    /// @notice Closes the position of an account below maintenance margin at the oracle price;
    /// the penalty is split between the caller and the pool; a deficit is absorbed by the pool.
    function liquidate(uint256 marketId, address account) external;

    /// @notice Registered accounts: deposits collateral into the LP pool for pool shares.
    function addLiquidity(uint256 amount, uint256 minShares) external returns (uint256 shares);

    /// @notice `orders()` only: `provider` gets the pool shares of `amount` of collateral the caller pays.
    function addLiquidityFor(address provider, uint256 amount, uint256 minShares) external returns (uint256 shares);

    /// @notice Registered accounts: burns pool shares for collateral; limited to the pool's cash, and the cash
    /// left must cover the traders' unrealised profit (PoolReserveBreached).
    function removeLiquidity(uint256 shares, uint256 minAmount) external returns (uint256 amount);

    /// @notice `orders()` only: `removeLiquidity` of `provider`'s shares, paid to `provider`.
    function removeLiquidityFor(address provider, uint256 shares, uint256 minAmount) external returns (uint256 amount);


    /// @notice Parameters of market `marketId`.
    function marketConfig(uint256 marketId) external view returns (MarketConfig memory);


    /// @notice Aggregates of market `marketId` (funding index as of its last update).
    function marketState(uint256 marketId) external view returns (MarketState memory);

    /// @notice Stored position of `account` in market `marketId` (funding not yet settled).
    function position(uint256 marketId, address account) external view returns (Position memory);

    /// @notice Value of `account` (margin + unrealised PnL - funding owed), rounded down.
    function accountValue(uint256 marketId, address account) external view returns (int256);

    /// @notice value / notional (WAD); type(uint256).max when the account has no position.
    function marginRatio(uint256 marketId, address account) external view returns (uint256);

    /// @notice Whether `account` is below maintenance margin now.
    function isLiquidatable(uint256 marketId, address account) external view returns (bool);

    /// @notice Funding `account` owes now (negative: is owed), rounded up.
    function fundingOwed(uint256 marketId, address account) external view returns (int256);

    /// @notice Current funding rate per day (WAD, positive: longs pay shorts).
    function fundingRate(uint256 marketId) external view returns (int256);

    /// @notice Long and short open interest in size units.
    function openInterest(uint256 marketId) external view returns (uint256 longs, uint256 shorts);

    /// @notice LP pool value: cash minus traders' unrealised PnL plus funding owed to it, rounded down.
    function poolValue() external view returns (uint256);

    /// @notice Collateral owned by the LP pool (excludes traders' margin).
    function poolCash() external view returns (uint256);

    /// @notice Total LP pool shares.
    function totalLpShares() external view returns (uint256);

    /// @notice LP pool shares of `provider`.
    function lpShares(address provider) external view returns (uint256);
}
