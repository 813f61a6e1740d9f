// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IIrm} from "@morpho-org/morpho-blue/src/interfaces/IIrm.sol";
import {IMorpho, Id, Market, MarketParams, Position} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {IOracle} from "@morpho-org/morpho-blue/src/interfaces/IOracle.sol";
import {MarketParamsLib} from "@morpho-org/morpho-blue/src/libraries/MarketParamsLib.sol";
import {SharesMathLib} from "@morpho-org/morpho-blue/src/libraries/SharesMathLib.sol";
import {MorphoBalancesLib} from "@morpho-org/morpho-blue/src/libraries/periphery/MorphoBalancesLib.sol";
import {TickMath} from "@uniswap/v4-core/src/libraries/TickMath.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {UnknownMarket, checkStep} from "../interfaces/Errors.sol";
import {IMoneyMarketVenue} from "../interfaces/IMoneyMarketVenue.sol";
import {ITokenVenue} from "../interfaces/ITokenVenue.sol";
import {OracleLib} from "../libraries/OracleLib.sol";
import {DexQuoter, IUniswapV3PoolReads} from "./DexQuote.sol";

/// @notice The Uniswap v3 pool calls the venue uses besides DexQuote's reads.
interface IUniswapV3PoolSwap is IUniswapV3PoolReads {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96,
        bytes calldata data) external returns (int256 amount0, int256 amount1);
}

/// @notice What the venue reads of a market's oracle to check it prices from the market's feed (FeedOracle).
interface IFeedOracleSource {
    function feed() external view returns (AggregatorV3Interface);
}

/// @title VenueAccount
/// @notice The address one token's Morpho positions belong to: it authorizes the venue that created it to manage
/// them, and does nothing else. One per token, so each token's health and liquidation are its own.
contract VenueAccount {
    /// @param morpho The lending market.
    constructor(IMorpho morpho) {
        morpho.setAuthorization(msg.sender, true);
    }
}

/// @title MoneyMarketVenue
/// @notice IMoneyMarketVenue: a leveraged token's exposure from Morpho Blue and a Uniswap v3 pool, behind the same
/// seam (ITokenVenue) as the perpetual venue.
/// @dev Rounding is against the account: collateral valued down, debt up. Every change is planned by the same
/// arithmetic its quote uses (Morpho's share math on the interest-accrued market, DexQuote's swap), so quoteModify
/// and modifyPosition agree to the unit; the execution takes the swap's amounts from the pool itself.
contract MoneyMarketVenue is IMoneyMarketVenue, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using MarketParamsLib for MarketParams;
    using SharesMathLib for uint256;
    using MorphoBalancesLib for IMorpho;

    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant ORACLE_PRICE_SCALE = 1e36;
    uint8 internal constant LONG = 1;
    uint8 internal constant SHORT = 2;
    /// @dev Hard bounds of a market's parameters.
    uint256 internal constant MAX_SLIPPAGE_BPS = 1000;
    uint256 internal constant MAX_HEARTBEAT = 7 days;
    /// @dev The most one change raises them by (DESIGN.md 11: a holder sees each step coming).
    uint256 internal constant MAX_SLIPPAGE_STEP_BPS = 50;
    uint256 internal constant MAX_LTV_STEP = 0.05e18;
    /// @dev Transient slot holding the pool a swap is under way in (the only caller of the swap callback).
    bytes32 internal constant SWAP_POOL_SLOT = keccak256("levtoken.MoneyMarketVenue.swapPool");

    /// @dev What a market stores beside its configuration, derived once at listing.
    struct Scales {
        address asset; // the lending markets' asset, one of the pool's tokens
        bool assetIsToken0; // whether the asset is the pool's token0
        uint256 sizeScale; // 10^(18 - asset decimals): raw asset units to size
        uint256 valueScale; // 10^(asset decimals + 18 - collateral decimals): raw asset * price / valueScale = collateral
        uint256 feedScale; // 10^(18 - feed decimals)
    }

    /// @dev One account's side of a market while a change is planned: Morpho's state, interest accrued.
    struct Ctx {
        uint256 marketId;
        address holder; // the token's VenueAccount
        uint8 side;
        MarketParams params; // the side's lending market
        uint256 price; // oracle price, 18 decimals (0 until read)
        Scales s;
        uint256 totalSupply; // the side's lending market, accrued
        uint256 totalBorrow;
        uint256 totalBorrowShares;
        uint256 borrowShares; // the account's
        uint256 collateral;
        uint256 cash;
    }

    /// @dev The lending market's moves of one change, in Morpho's order: supply collateral, borrow or repay, withdraw.
    struct Moves {
        uint256 supply;
        uint256 borrow;
        uint256 repay; // assets
        bool repayAll; // every borrow share instead
        uint256 withdraw;
        uint256 cashAfter;
    }

    /// @dev A change as the swap callback receives it.
    struct Change {
        uint256 marketId;
        address account;
        uint256 marginIn;
        uint256 marginOut;
        bool buy; // buys the asset (a long grows, a short shrinks)
        uint256 tradeRaw; // asset units traded
    }

    /// @inheritdoc IMoneyMarketVenue
    IMorpho public immutable morpho;
    /// @inheritdoc IMoneyMarketVenue
    DexQuoter public immutable quoter;
    /// @inheritdoc ITokenVenue
    IERC20 public immutable collateral;
    /// @inheritdoc ITokenVenue
    uint256 public marketCount;
    /// @inheritdoc ITokenVenue
    mapping(uint256 marketId => string) public marketSymbol;
    /// @inheritdoc ITokenVenue
    mapping(address account => bool) public isRegistered;
    /// @inheritdoc ITokenVenue
    address public registrar;
    /// @inheritdoc IMoneyMarketVenue
    mapping(address token => address) public accountOf;

    mapping(uint256 marketId => MarketConfig) internal _configs;
    mapping(uint256 marketId => Scales) internal _scales;
    mapping(uint256 marketId => mapping(address account => uint8)) internal _sides;
    mapping(uint256 marketId => mapping(address account => uint256)) internal _cash;

    /// @param morpho_ The Morpho Blue instance every lending market lives in.
    /// @param quoter_ The DexQuoter that quotes the pools' swaps.
    /// @param collateral_ The stablecoin tokens hold and margin is paid in.
    /// @param owner_ Lists markets and sets the registrar.
    constructor(IMorpho morpho_, DexQuoter quoter_, IERC20 collateral_, address owner_) Ownable(owner_) {
        morpho = morpho_;
        quoter = quoter_;
        collateral = collateral_;
        collateral_.forceApprove(address(morpho_), type(uint256).max);
    }

    /* ADMINISTRATION */

    /// @inheritdoc IMoneyMarketVenue
    function listMarket(string calldata symbol, MarketConfig calldata config)
        external
        onlyOwner
        returns (uint256 marketId)
    {
        Scales memory s = _checkConfig(config);
        marketId = ++marketCount;
        marketSymbol[marketId] = symbol;
        _configs[marketId] = config;
        _scales[marketId] = s;
        IERC20(s.asset).forceApprove(address(morpho), type(uint256).max);
        emit MarketListed(marketId, symbol, config);
    }

    /// @inheritdoc IMoneyMarketVenue
    function setMarketConfig(uint256 marketId, MarketConfig calldata config) external onlyOwner {
        _requireMarket(marketId);
        MarketConfig storage current = _configs[marketId];
        if (config.feed != current.feed) revert InvalidConfig("feed");
        if (Id.unwrap(config.longMarket.id()) != Id.unwrap(current.longMarket.id())) revert InvalidConfig("longMarket");
        if (Id.unwrap(config.shortMarket.id()) != Id.unwrap(current.shortMarket.id())) {
            revert InvalidConfig("shortMarket");
        }
        _scales[marketId] = _checkConfig(config);
        checkStep("maxSlippageBps", current.maxSlippageBps, config.maxSlippageBps, MAX_SLIPPAGE_STEP_BPS);
        checkStep("maxLtv", current.maxLtv, config.maxLtv, MAX_LTV_STEP);
        _configs[marketId] = config;
        emit MarketConfigUpdated(marketId, config);
    }

    /// @inheritdoc IMoneyMarketVenue
    function setRegistrar(address registrar_) external onlyOwner {
        registrar = registrar_;
        emit RegistrarSet(registrar_);
    }

    /// @inheritdoc ITokenVenue
    /// @dev The first registration of `account` creates its VenueAccount.
    function register(address account, bool registered) external {
        if (msg.sender != owner() && msg.sender != registrar) revert NotRegistrar(msg.sender);
        if (registered && accountOf[account] == address(0)) {
            accountOf[account] = address(new VenueAccount{salt: bytes32(uint256(uint160(account)))}(morpho));
        }
        isRegistered[account] = registered;
        emit AccountRegistered(account, registered);
    }

    /* POSITIONS */

    /// @inheritdoc ITokenVenue
    function modifyPosition(uint256 marketId, int256 marginDelta, int256 sizeDelta, address to)
        external
        nonReentrant
        returns (int256 valueBefore, int256 valueAfter)
    {
        if (!isRegistered[msg.sender]) revert NotRegistered(msg.sender);
        _requireMarket(marketId);
        Change memory c = _change(marketId, msg.sender, marginDelta, sizeDelta);
        uint8 side = _sideOf(marketId, msg.sender, c);
        if (_sides[marketId][msg.sender] != side) _sides[marketId][msg.sender] = side;
        Ctx memory x = _context(marketId, msg.sender, side);
        valueBefore = _value(x);
        if (c.marginIn != 0) collateral.safeTransferFrom(msg.sender, address(this), c.marginIn);
        uint256 stableAmount;
        if (c.tradeRaw == 0) {
            _execute(x, c, 0);
        } else {
            stableAmount = _swap(x, c);
        }
        if (c.marginOut != 0) collateral.safeTransfer(to, c.marginOut);
        (valueAfter,,) = accountState(marketId, msg.sender);
        emit PositionModified(
            marketId, msg.sender, marginDelta, sizeDelta, x.price, stableAmount, valueBefore, valueAfter
        );
    }

    /// @inheritdoc IMoneyMarketVenue
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        address pool;
        bytes32 slot = SWAP_POOL_SLOT;
        assembly ("memory-safe") {
            pool := tload(slot)
        }
        if (msg.sender != pool || pool == address(0)) revert NotPool(msg.sender);
        Change memory c = abi.decode(data, (Change));
        Ctx memory x = _context(c.marketId, c.account, _sides[c.marketId][c.account]);
        (int256 assetDelta, int256 stableDelta) =
            x.s.assetIsToken0 ? (amount0Delta, amount1Delta) : (amount1Delta, amount0Delta);
        // The pool's deltas are its own: a buy pays out the asset, a sale takes it in. Anything else than the whole
        // size means the swap stopped at its price limit.
        if (assetDelta != (c.buy ? -int256(c.tradeRaw) : int256(c.tradeRaw))) {
            revert SwapBeyondBound(_limit(x, c.buy), x.price);
        }
        uint256 stableAmount = c.buy ? uint256(stableDelta) : uint256(-stableDelta);
        _execute(x, c, stableAmount);
        if (c.buy) collateral.safeTransfer(msg.sender, stableAmount);
        else IERC20(x.s.asset).safeTransfer(msg.sender, c.tradeRaw);
    }

    /* VIEWS */

    /// @inheritdoc ITokenVenue
    function accountState(uint256 marketId, address account)
        public
        view
        returns (int256 value, int256 size, uint256 price)
    {
        _requireMarket(marketId);
        Ctx memory x = _context(marketId, account, _sides[marketId][account]);
        value = _value(x);
        size = _size(x);
        if (size != 0) price = _price(x);
    }

    /// @inheritdoc ITokenVenue
    function quoteModify(uint256 marketId, address account, int256 marginDelta, int256 sizeDelta)
        external
        view
        returns (int256 valueBefore, int256 valueAfter, uint256 price)
    {
        _requireMarket(marketId);
        Change memory c = _change(marketId, account, marginDelta, sizeDelta);
        Ctx memory x = _context(marketId, account, _sideOf(marketId, account, c));
        valueBefore = _value(x);
        uint256 stableAmount;
        if (c.tradeRaw != 0) {
            uint160 limit = _limit(x, c.buy);
            (bool filled, uint256 amount,) = _quoteSwap(x, c.buy, c.tradeRaw, limit);
            if (!filled) revert SwapBeyondBound(limit, x.price);
            stableAmount = amount;
        }
        Moves memory m = _moves(x, c, stableAmount);
        _apply(x, m, c);
        valueAfter = _value(x);
        price = _price(x);
    }

    /// @inheritdoc ITokenVenue
    /// @dev The swap's cost against the oracle price: what it pays above (a buy) or receives below (a sale) the
    /// size's value at the oracle, never below zero; `fee` is the pool's fee tier on that value (capped at the
    /// cost), `impact` the rest. Without the slippage bound, so a size the bound refuses is still priced (its
    /// modification is refused instead); a size beyond the pool's whole liquidity is quoted at its full value.
    function quoteTrade(uint256 marketId, int256 sizeDelta)
        external
        view
        returns (uint256 price, uint256 executionPrice, uint256 fee, uint256 impact)
    {
        _requireMarket(marketId);
        Ctx memory x;
        x.marketId = marketId;
        x.s = _scales[marketId];
        price = _price(x);
        bool buy = sizeDelta > 0;
        uint256 tradeRaw = _abs(sizeDelta) / x.s.sizeScale;
        if (tradeRaw == 0) return (price, price, 0, 0);
        uint256 notional = Math.mulDiv(tradeRaw, price, x.s.valueScale);
        (bool filled, uint256 amount, uint24 poolFee) = _quoteSwap(x, buy, tradeRaw, 0);
        if (!filled) return (price, 0, 0, notional);
        executionPrice = Math.mulDiv(amount, x.s.valueScale, tradeRaw);
        uint256 cost = buy ? (amount > notional ? amount - notional : 0) : (notional > amount ? notional - amount : 0);
        fee = Math.min(cost, Math.mulDiv(notional, poolFee, 1e6, Math.Rounding.Ceil));
        impact = cost - fee;
    }

    /// @inheritdoc ITokenVenue
    function indexPrice(uint256 marketId) external view returns (uint256) {
        _requireMarket(marketId);
        Ctx memory x;
        x.marketId = marketId;
        x.s = _scales[marketId];
        return _price(x);
    }

    /// @inheritdoc ITokenVenue
    function marketFeed(uint256 marketId) external view returns (AggregatorV3Interface feed, uint256 heartbeat) {
        MarketConfig storage c = _configs[marketId];
        return (c.feed, c.heartbeat);
    }

    /// @inheritdoc IMoneyMarketVenue
    function marketConfig(uint256 marketId) external view returns (MarketConfig memory) {
        return _configs[marketId];
    }

    /// @inheritdoc IMoneyMarketVenue
    function book(uint256 marketId, address account) external view returns (Book memory b) {
        _requireMarket(marketId);
        Ctx memory x = _context(marketId, account, _sides[marketId][account]);
        return Book(x.side, x.collateral, _debt(x), x.cash, x.borrowShares);
    }

    /// @inheritdoc IMoneyMarketVenue
    function isLiquidatable(uint256 marketId, address account) external view returns (bool) {
        _requireMarket(marketId);
        Ctx memory x = _context(marketId, account, _sides[marketId][account]);
        return x.borrowShares != 0 && _debt(x) > _maxDebt(x, x.params.lltv);
    }

    /// @inheritdoc IMoneyMarketVenue
    function borrowTotals(uint256 marketId)
        external
        view
        returns (uint256 longAssets, uint256 longShares, uint256 shortAssets, uint256 shortShares)
    {
        _requireMarket(marketId);
        MarketConfig storage c = _configs[marketId];
        (,, longAssets, longShares) = morpho.expectedMarketBalances(c.longMarket);
        (,, shortAssets, shortShares) = morpho.expectedMarketBalances(c.shortMarket);
    }

    /// @inheritdoc IMoneyMarketVenue
    function borrowRates(uint256 marketId) external view returns (uint256 longRate, uint256 shortRate) {
        _requireMarket(marketId);
        MarketConfig storage c = _configs[marketId];
        longRate = _borrowRate(c.longMarket);
        shortRate = _borrowRate(c.shortMarket);
    }

    /* INTERNAL: PLANNING */

    /// @dev The change `marginDelta`, `sizeDelta` asks for, in the venue's units (size truncated to the asset's
    /// decimals).
    function _change(uint256 marketId, address account, int256 marginDelta, int256 sizeDelta)
        internal
        view
        returns (Change memory c)
    {
        c.marketId = marketId;
        c.account = account;
        (c.marginIn, c.marginOut) = marginDelta >= 0 ? (uint256(marginDelta), uint256(0)) : (uint256(0), _abs(marginDelta));
        c.buy = sizeDelta > 0;
        c.tradeRaw = _abs(sizeDelta) / _scales[marketId].sizeScale;
    }

    /// @dev The account's side after `c`: its own once it has traded, else the trade's direction.
    function _sideOf(uint256 marketId, address account, Change memory c) internal view returns (uint8 side) {
        side = _sides[marketId][account];
        if (side == 0 && c.tradeRaw != 0) side = c.buy ? LONG : SHORT;
    }

    /// @dev The account's side of market `marketId` as Morpho holds it now, interest accrued.
    function _context(uint256 marketId, address account, uint8 side) internal view returns (Ctx memory x) {
        x.marketId = marketId;
        x.side = side;
        x.s = _scales[marketId];
        x.cash = _cash[marketId][account];
        x.holder = accountOf[account];
        if (side == 0) return x;
        x.params = side == LONG ? _configs[marketId].longMarket : _configs[marketId].shortMarket;
        (x.totalSupply,, x.totalBorrow, x.totalBorrowShares) = morpho.expectedMarketBalances(x.params);
        if (x.holder == address(0)) return x;
        Position memory p = morpho.position(x.params.id(), x.holder);
        (x.borrowShares, x.collateral) = (p.borrowShares, p.collateral);
    }

    /// @dev The lending market's moves of change `c` with a swap of `stableAmount` stablecoin (paid for a buy,
    /// received for a sale), on state `x`.
    function _moves(Ctx memory x, Change memory c, uint256 stableAmount) internal pure returns (Moves memory m) {
        uint256 debt = _debt(x);
        int256 net = int256(x.cash + c.marginIn) - int256(c.marginOut);
        if (x.side == LONG) {
            net += c.buy ? -int256(stableAmount) : int256(stableAmount);
            if (c.buy) m.supply = c.tradeRaw;
            else m.withdraw = c.tradeRaw;
            if (!c.buy && c.tradeRaw > x.collateral) revert SideChange(_size(x), -int256(c.tradeRaw * x.s.sizeScale));
            if (net < 0) {
                m.borrow = uint256(-net);
            } else if (debt != 0 && uint256(net) >= debt) {
                (m.repayAll, m.cashAfter) = (true, uint256(net) - debt);
            } else if (debt != 0) {
                m.repay = uint256(net);
            } else {
                m.cashAfter = uint256(net);
            }
        } else if (x.side == SHORT) {
            net += c.buy ? -int256(stableAmount) : int256(stableAmount);
            if (c.buy) {
                if (c.tradeRaw > debt) revert SideChange(_size(x), int256(c.tradeRaw * x.s.sizeScale));
                if (c.tradeRaw == debt) m.repayAll = true;
                else m.repay = c.tradeRaw;
            } else {
                m.borrow = c.tradeRaw;
            }
            if (net >= 0) {
                m.supply = uint256(net);
            } else {
                if (uint256(-net) > x.collateral) revert InsufficientCollateral(x.collateral, uint256(-net));
                m.withdraw = uint256(-net);
            }
        } else {
            if (net < 0) revert InsufficientCollateral(x.cash + c.marginIn, c.marginOut);
            m.cashAfter = uint256(net);
        }
    }

    /// @dev Applies `m` to `x` as Morpho would (its share math, rounding and checks), reverting with the venue's
    /// named error where Morpho would refuse, and where a change that adds exposure passes maxLtv.
    function _apply(Ctx memory x, Moves memory m, Change memory c) internal view {
        x.collateral += m.supply;
        if (m.borrow != 0) {
            uint256 shares = m.borrow.toSharesUp(x.totalBorrow, x.totalBorrowShares);
            if (x.totalBorrow + m.borrow > x.totalSupply) {
                revert InsufficientLiquidity(x.totalSupply - x.totalBorrow, m.borrow);
            }
            (x.borrowShares, x.totalBorrow, x.totalBorrowShares) =
                (x.borrowShares + shares, x.totalBorrow + m.borrow, x.totalBorrowShares + shares);
        } else if (m.repayAll) {
            uint256 assets = x.borrowShares.toAssetsUp(x.totalBorrow, x.totalBorrowShares);
            x.totalBorrow = x.totalBorrow > assets ? x.totalBorrow - assets : 0;
            (x.totalBorrowShares, x.borrowShares) = (x.totalBorrowShares - x.borrowShares, 0);
        } else if (m.repay != 0) {
            uint256 shares = m.repay.toSharesDown(x.totalBorrow, x.totalBorrowShares);
            x.totalBorrow = x.totalBorrow > m.repay ? x.totalBorrow - m.repay : 0;
            (x.totalBorrowShares, x.borrowShares) = (x.totalBorrowShares - shares, x.borrowShares - shares);
        }
        x.collateral -= m.withdraw;
        x.cash = m.cashAfter;
        if (m.borrow == 0 && m.withdraw == 0) return;
        uint256 debt = _debt(x);
        uint256 maxDebt = _maxDebt(x, x.params.lltv);
        if (debt > maxDebt) revert Unhealthy(debt, maxDebt);
        bool grows = c.tradeRaw != 0 && c.buy == (x.side == LONG);
        if (grows) {
            maxDebt = _maxDebt(x, _configs[x.marketId].maxLtv);
            if (debt > maxDebt) revert LtvAboveMax(debt, maxDebt);
        }
    }

    /// @dev What `x`'s collateral lends at loan-to-value `ltv` (WAD), priced by the lending market's oracle and
    /// rounded down as Morpho rounds it.
    function _maxDebt(Ctx memory x, uint256 ltv) internal view returns (uint256) {
        uint256 collateralValue = Math.mulDiv(x.collateral, IOracle(x.params.oracle).price(), ORACLE_PRICE_SCALE);
        return Math.mulDiv(collateralValue, ltv, WAD);
    }

    /* INTERNAL: EXECUTION */

    /// @dev Swaps change `c` in the market's pool within the slippage bound; the pool's callback executes the moves.
    /// Returns the stablecoin amount of the swap.
    function _swap(Ctx memory x, Change memory c) internal returns (uint256 stableAmount) {
        IUniswapV3PoolSwap pool = IUniswapV3PoolSwap(_configs[c.marketId].pool);
        uint160 limit = _limit(x, c.buy);
        bool zeroForOne = c.buy != x.s.assetIsToken0;
        _checkLimitSide(pool, zeroForOne, limit, x.price);
        bytes32 slot = SWAP_POOL_SLOT;
        assembly ("memory-safe") {
            tstore(slot, pool)
        }
        int256 amountSpecified = c.buy ? -int256(c.tradeRaw) : int256(c.tradeRaw);
        (int256 amount0, int256 amount1) = pool.swap(address(this), zeroForOne, amountSpecified, limit, abi.encode(c));
        assembly ("memory-safe") {
            tstore(slot, 0)
        }
        int256 stableDelta = x.s.assetIsToken0 ? amount1 : amount0;
        stableAmount = c.buy ? uint256(stableDelta) : uint256(-stableDelta);
    }

    /// @dev Plans change `c` on `x` with a swap of `stableAmount` and carries its moves out in Morpho, in order.
    function _execute(Ctx memory x, Change memory c, uint256 stableAmount) internal {
        Moves memory m = _moves(x, c, stableAmount);
        uint256 shares = x.borrowShares;
        _apply(x, m, c);
        MarketParams memory p = x.params;
        if (m.supply != 0) morpho.supplyCollateral(p, m.supply, x.holder, "");
        if (m.borrow != 0) morpho.borrow(p, m.borrow, 0, x.holder, address(this));
        if (m.repayAll) morpho.repay(p, 0, shares, x.holder, "");
        else if (m.repay != 0) morpho.repay(p, m.repay, 0, x.holder, "");
        if (m.withdraw != 0) morpho.withdrawCollateral(p, m.withdraw, x.holder, address(this));
        if (_cash[c.marketId][c.account] != m.cashAfter) _cash[c.marketId][c.account] = m.cashAfter;
    }

    /* INTERNAL: VALUES AND PRICES */

    /// @dev Value at the oracle price, collateral units: collateral down, debt up.
    /// The price is read only for a position with exposure (size not zero).
    function _value(Ctx memory x) internal view returns (int256) {
        uint256 debt = _debt(x);
        if (x.side == LONG) {
            uint256 held = x.collateral == 0 ? 0 : Math.mulDiv(x.collateral, _price(x), x.s.valueScale);
            return int256(held + x.cash) - int256(debt);
        }
        uint256 owed = debt == 0 ? 0 : Math.mulDiv(debt, _price(x), x.s.valueScale, Math.Rounding.Ceil);
        return int256(x.collateral + x.cash) - int256(owed);
    }

    /// @dev Signed size, 18 decimals: a long's collateral, minus a short's debt.
    function _size(Ctx memory x) internal pure returns (int256) {
        if (x.side == LONG) return int256(x.collateral * x.s.sizeScale);
        if (x.side == 0) return 0;
        return -int256(_debt(x) * x.s.sizeScale);
    }

    /// @dev The account's debt, rounded up as Morpho rounds it.
    function _debt(Ctx memory x) internal pure returns (uint256) {
        return x.borrowShares.toAssetsUp(x.totalBorrow, x.totalBorrowShares);
    }

    /// @dev The market's validated oracle price (18 decimals), read once per context.
    function _price(Ctx memory x) internal view returns (uint256) {
        if (x.price == 0) {
            MarketConfig storage c = _configs[x.marketId];
            x.price = OracleLib.readWad(c.feed, c.heartbeat, x.s.feedScale);
        }
        return x.price;
    }

    /// @dev The pool price a swap may not pass, as the pool's sqrtPriceX96 inside its own range: the oracle price
    /// moved against the token by maxSlippageBps, less the pool's fee (which a swap pays on its input, 1 / (1 - fee)
    /// on top of the price it moves through), so that a swap's whole cost, fee included, stays within
    /// maxSlippageBps of its notional at the oracle price.
    function _limit(Ctx memory x, bool buy) internal view returns (uint160) {
        MarketConfig storage config = _configs[x.marketId];
        uint256 bps = config.maxSlippageBps;
        uint256 net = 1e6 - IUniswapV3PoolSwap(config.pool).fee();
        uint256 bound = buy
            ? Math.mulDiv(_price(x), (BPS + bps) * net, BPS * 1e6)
            : Math.mulDiv(_price(x), (BPS - bps) * 1e6, BPS * net);
        uint256 raw = x.s.assetIsToken0
            ? Math.mulDiv(bound, 1 << 192, x.s.valueScale) // collateral raw per asset raw, X192
            : Math.mulDiv(x.s.valueScale, 1 << 192, bound); // asset raw per collateral raw, X192
        uint256 root = Math.sqrt(raw);
        return uint160(Math.min(Math.max(root, TickMath.MIN_SQRT_PRICE + 1), TickMath.MAX_SQRT_PRICE - 1));
    }

    /// @dev SwapBeyondBound when the pool's price is already past `limit` in the swap's direction (the pool would
    /// refuse the limit itself).
    function _checkLimitSide(IUniswapV3PoolReads pool, bool zeroForOne, uint160 limit, uint256 price) internal view {
        (uint160 current,,,,,,) = pool.slot0();
        if (zeroForOne ? limit >= current : limit <= current) revert SwapBeyondBound(limit, price);
    }

    /// @dev DexQuote of trading `tradeRaw` of the asset (bought exactly, or sold exactly) up to `limit` (0: none):
    /// whether it fills whole, the stablecoin it pays or receives, and the pool's fee tier.
    function _quoteSwap(Ctx memory x, bool buy, uint256 tradeRaw, uint160 limit)
        internal
        view
        returns (bool filled, uint256 stableAmount, uint24 poolFee)
    {
        IUniswapV3PoolSwap pool = IUniswapV3PoolSwap(_configs[x.marketId].pool);
        bool zeroForOne = buy != x.s.assetIsToken0;
        poolFee = pool.fee();
        if (limit != 0) _checkLimitSide(pool, zeroForOne, limit, _price(x));
        (int256 amount0, int256 amount1,) =
            quoter.swap(pool, zeroForOne, buy ? -int256(tradeRaw) : int256(tradeRaw), limit);
        (int256 assetDelta, int256 stableDelta) = x.s.assetIsToken0 ? (amount0, amount1) : (amount1, amount0);
        filled = assetDelta == (buy ? -int256(tradeRaw) : int256(tradeRaw));
        stableAmount = buy ? uint256(stableDelta) : uint256(-stableDelta);
    }

    function _borrowRate(MarketParams memory p) internal view returns (uint256) {
        return IIrm(p.irm).borrowRateView(p, morpho.market(p.id()));
    }

    /* INTERNAL: CHECKS */

    function _requireMarket(uint256 marketId) internal view {
        if (marketId == 0 || marketId > marketCount) revert UnknownMarket(marketId);
    }

    /// @dev The scales of `config` once it fits: InvalidConfig names the first field that does not.
    function _checkConfig(MarketConfig calldata config) internal view returns (Scales memory s) {
        if (_word(address(config.feed), AggregatorV3Interface.decimals.selector, "feed") > 18) {
            revert InvalidConfig("feed");
        }
        if (config.heartbeat == 0 || config.heartbeat > MAX_HEARTBEAT) revert InvalidConfig("heartbeat");
        if (config.maxSlippageBps == 0 || config.maxSlippageBps > MAX_SLIPPAGE_BPS) {
            revert InvalidConfig("maxSlippageBps");
        }
        MarketParams calldata l = config.longMarket;
        MarketParams calldata h = config.shortMarket;
        if (config.maxLtv == 0 || config.maxLtv >= l.lltv || config.maxLtv >= h.lltv) revert InvalidConfig("maxLtv");
        IUniswapV3PoolSwap pool = IUniswapV3PoolSwap(config.pool);
        s.asset = l.collateralToken;
        address token0 = address(uint160(_word(config.pool, pool.token0.selector, "pool")));
        address token1 = address(uint160(_word(config.pool, pool.token1.selector, "pool")));
        s.assetIsToken0 = token0 == s.asset;
        if ((s.assetIsToken0 ? token1 : token0) != address(collateral) || (!s.assetIsToken0 && token1 != s.asset)) {
            revert InvalidConfig("pool");
        }
        if (!_lends(l, address(collateral), s.asset, config.feed)) revert InvalidConfig("longMarket");
        if (!_lends(h, s.asset, address(collateral), config.feed)) revert InvalidConfig("shortMarket");
        uint8 assetDecimals = IERC20Metadata(s.asset).decimals();
        uint8 collateralDecimals = IERC20Metadata(address(collateral)).decimals();
        if (assetDecimals > 18 || collateralDecimals > 18) revert InvalidConfig("pool");
        s.sizeScale = 10 ** (18 - assetDecimals);
        s.valueScale = 10 ** (uint256(assetDecimals) + 18 - collateralDecimals);
        s.feedScale = 10 ** (18 - config.feed.decimals());
    }

    /// @dev What `target` returns for the argument-free view `selector`, as a word; InvalidConfig(`field`) when it
    /// reverts or returns less than a word (no contract there, or not the kind the field names).
    function _word(address target, bytes4 selector, string memory field) internal view returns (uint256) {
        (bool ok, bytes memory data) = target.staticcall(abi.encodeWithSelector(selector));
        if (!ok || data.length < 32) revert InvalidConfig(field);
        return abi.decode(data, (uint256));
    }

    /// @dev Whether `p` is a created Morpho market lending `loan` against `held` with an oracle that reads `feed`.
    function _lends(MarketParams calldata p, address loan, address held, AggregatorV3Interface feed)
        internal
        view
        returns (bool)
    {
        if (p.loanToken != loan || p.collateralToken != held || p.lltv >= WAD) return false;
        if (morpho.market(p.id()).lastUpdate == 0) return false;
        try IFeedOracleSource(p.oracle).feed() returns (AggregatorV3Interface source) {
            return source == feed;
        } catch {
            return false;
        }
    }

    function _abs(int256 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(v) : uint256(-v);
    }
}
