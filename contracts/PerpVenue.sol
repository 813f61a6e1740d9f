// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {ITokenVenue} from "./interfaces/ITokenVenue.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {ZeroAmount, SlippageExceeded, UnknownMarket, checkStep} from "./interfaces/Errors.sol";
import {FixedPointMath as FPM, WAD, BPS} from "./libraries/FixedPointMath.sol";
import {OracleLib} from "./libraries/OracleLib.sol";
import {SharesMath} from "./libraries/SharesMath.sol";

/// @title PerpVenue
/// @notice A perpetual-futures venue for local and test chains: trades fill at the oracle price
/// plus a size-dependent price impact and a fee, funding flows from the open-interest skew, and an
/// LP pool is the counterparty of every trade.
/// @dev Accounting (see DESIGN.md section 3). Positions keep their exact open notional
/// (sum of size * price, 36 decimals), so unrealised PnL = (size * price - openNotional) / UNIT with
/// a single rounding, and the market keeps exact sums of every account's openNotional and funding
/// snapshot, from which the pool is valued. Rounding is always against the account: PnL down,
/// funding owed up, fees up. Costs (fee + impact) are paid to the pool as collateral at the trade, so
/// a position's entry is the oracle price and a trade's full cost is visible in one number.
/// Who trades in one step (DESIGN.md 10): registered accounts only (the tokens, whose own entry and exit are
/// already priced at a round after each request; the factory registers them), exempt from the open-interest cap
/// (their supply caps bound them). Everyone else trades and provides liquidity through `orders`
/// (DelayedOrders), executed by keepers at a round published after the request, so nobody trades or moves
/// liquidity at a price it has seen. LP withdrawals keep the pool's cash at least the traders' unrealised profit.
/// Not checked on purpose: feeds are trusted for decimals <= 18; collateral must be a plain ERC-20
/// (no fee on transfer); the pool is shared by all markets.
contract PerpVenue is IPerpVenue, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /* IMMUTABLES */

    /// @dev Collateral units a pro-rata exit may leave short of pro rata (see _isProRataExit).
    uint256 internal constant PRO_RATA_SLACK = 2;
    /// @dev Hard bounds no owner can pass (DESIGN.md 11): a liquidation takes at most the penalty, never the
    /// account; maintenance margin far below a token's margin at its ripcord.
    uint256 internal constant MAX_MAINTENANCE_MARGIN_BPS = 1_000;
    uint256 internal constant MAX_LIQUIDATION_PENALTY_BPS = 200;
    uint256 internal constant MAX_LIQUIDATOR_SHARE_BPS = 5_000;
    /// @dev Virtual LP shares and assets, so the first LP cannot be diluted by a donation.
    uint256 internal constant VIRTUAL_LP_SHARES = 1e12;

    /// @inheritdoc ITokenVenue
    IERC20 public immutable collateral;
    /// @dev size (1e18) * price (1e18) / UNIT = collateral units.
    int256 internal immutable UNIT;

    /* STORAGE */

    /// @inheritdoc ITokenVenue
    uint256 public marketCount;
    /// @inheritdoc ITokenVenue
    mapping(uint256 marketId => string) public marketSymbol;
    mapping(uint256 marketId => MarketConfig) internal _configs;
    mapping(uint256 marketId => MarketState) internal _states;
    mapping(uint256 marketId => uint256) internal _priceScale;
    mapping(uint256 marketId => mapping(address account => Position)) internal _positions;

    /// @inheritdoc IPerpVenue
    uint256 public poolCash;
    /// @inheritdoc IPerpVenue
    uint256 public totalLpShares;
    /// @inheritdoc IPerpVenue
    mapping(address provider => uint256) public lpShares;
    /// @inheritdoc ITokenVenue
    mapping(address account => bool) public isRegistered;
    /// @inheritdoc ITokenVenue
    address public registrar;
    /// @inheritdoc IPerpVenue
    address public orders;

    /// @dev Everything one modification changes, computed in memory by `_simulate` and shared by the
    /// mutating path and the quote views, so a quote is exact to the unit.
    struct Outcome {
        uint256 price;
        int256 fundingOwed;
        int256 valueBefore;
        int256 valueAfter;
        uint256 fee;
        uint256 impact;
        uint256 executionPrice;
        int256 realizedPnl;
    }

    /* CONSTRUCTOR */

    /// @param collateral_ The ERC-20 stablecoin used as margin and pool collateral (decimals <= 18).
    /// @param owner_ Lists markets and sets their parameters.
    constructor(IERC20 collateral_, address owner_) Ownable(owner_) {
        collateral = collateral_;
        UNIT = int256(10 ** (36 - uint256(IERC20Metadata(address(collateral_)).decimals())));
    }

    /* OWNER FUNCTIONS */

    /// @inheritdoc IPerpVenue
    function listMarket(string calldata symbol, MarketConfig calldata config)
        external
        onlyOwner
        returns (uint256 marketId)
    {
        _validate(config);
        marketId = ++marketCount;
        marketSymbol[marketId] = symbol;
        _configs[marketId] = config;
        _priceScale[marketId] = 10 ** (18 - uint256(config.feed.decimals()));
        _states[marketId].lastFundingTime = uint64(block.timestamp);
        emit MarketListed(marketId, symbol, address(config.feed));
        emit MarketConfigUpdated(marketId, config);
    }

    /// @inheritdoc IPerpVenue
    function setMarketConfig(uint256 marketId, MarketConfig calldata config) external onlyOwner {
        _requireMarket(marketId);
        _validate(config);
        _checkSteps(_configs[marketId], config);
        // Accrue funding at the old parameters first; needs a valid price only if there is open interest.
        MarketState storage m = _states[marketId];
        if (m.longOpenInterest != 0 || m.shortOpenInterest != 0) {
            uint256 price = _price(marketId);
            m.fundingIndex = _fundingIndexNow(marketId, m, price);
        }
        m.lastFundingTime = uint64(block.timestamp);
        _configs[marketId] = config;
        _priceScale[marketId] = 10 ** (18 - uint256(config.feed.decimals()));
        emit MarketConfigUpdated(marketId, config);
    }

    /// @inheritdoc IPerpVenue
    function setRegistrar(address registrar_) external onlyOwner {
        registrar = registrar_;
        emit RegistrarSet(registrar_);
    }

    /// @inheritdoc IPerpVenue
    function setOrders(address orders_) external onlyOwner {
        orders = orders_;
        emit OrdersSet(orders_);
    }

    /// @inheritdoc ITokenVenue
    function register(address account, bool registered) external {
        if (msg.sender != owner() && msg.sender != registrar) revert NotRegistrar(msg.sender);
        isRegistered[account] = registered;
        emit AccountRegistered(account, registered);
    }

    /* MARGIN AND TRADING */

    /// @inheritdoc IPerpVenue
    function depositMargin(uint256 marketId, address account, uint256 amount) external nonReentrant {
        _requireMarket(marketId);
        if (amount == 0) revert ZeroAmount();
        _positions[marketId][account].margin += amount.toInt256().toInt128();
        emit MarginDeposited(marketId, account, msg.sender, amount);
        collateral.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPerpVenue
    function withdrawMargin(uint256 marketId, uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _modify(marketId, msg.sender, -amount.toInt256(), 0, to);
    }

    /// @inheritdoc IPerpVenue
    function trade(uint256 marketId, int256 sizeDelta, uint256 acceptablePrice) external nonReentrant onlyRegistered {
        _trade(marketId, msg.sender, sizeDelta, acceptablePrice);
    }

    /// @inheritdoc IPerpVenue
    function tradeFor(uint256 marketId, address account, int256 sizeDelta, uint256 acceptablePrice)
        external
        nonReentrant
        onlyOrders
    {
        _trade(marketId, account, sizeDelta, acceptablePrice);
    }

    /// @inheritdoc ITokenVenue
    function modifyPosition(uint256 marketId, int256 marginDelta, int256 sizeDelta, address to)
        external
        nonReentrant
        onlyRegistered
        returns (int256 valueBefore, int256 valueAfter)
    {
        if (marginDelta == 0 && sizeDelta == 0) revert ZeroAmount();
        Outcome memory o = _modify(marketId, msg.sender, marginDelta, sizeDelta, to);
        return (o.valueBefore, o.valueAfter);
    }

    /// @inheritdoc IPerpVenue
    function liquidate(uint256 marketId, address account) external nonReentrant {
        _requireMarket(marketId);
        MarketState memory m = _states[marketId];
        Position memory p = _positions[marketId][account];
        int256 size = p.size;
        uint256 price = _price(marketId);
        (uint256 penalty, uint256 reward, uint256 badDebt) = _liquidate(marketId, p, m, price);
        emit Liquidated(marketId, account, msg.sender, size, price, penalty, reward, badDebt);
        _positions[marketId][account] = p;
        _states[marketId] = m;
        if (reward != 0) collateral.safeTransfer(msg.sender, reward);
    }

    /// @dev Checks `p` is below maintenance margin, closes it at `price`, takes the penalty and moves
    /// the pool's cash: it receives funding, the closed position's loss (pays its profit) and its share
    /// of the penalty, and absorbs any bad debt.
    function _liquidate(uint256 marketId, Position memory p, MarketState memory m, uint256 price)
        internal
        returns (uint256 penalty, uint256 reward, uint256 badDebt)
    {
        MarketConfig memory c = _configs[marketId];
        _accrue(marketId, m, price);
        int256 owed = _settleFunding(p, m);
        int256 realized = _unrealized(p, price);
        int256 margin = p.margin + realized;
        uint256 notional = _notionalUp(FPM.abs(p.size), price);
        uint256 maintenance = FPM.mulDivUp(notional, c.maintenanceMarginBps, BPS);
        if (p.size == 0 || margin >= maintenance.toInt256()) revert NotLiquidatable(margin, maintenance);

        _removeOpenInterest(m, p.size);
        _moveNotional(m, p.size, -p.openNotional);
        m.sumFundingSnapshot -= int256(p.size) * m.fundingIndex;
        penalty = FPM.min(FPM.mulDivUp(notional, c.liquidationPenaltyBps, BPS), margin > 0 ? uint256(margin) : 0);
        reward = FPM.mulDivDown(penalty, c.liquidatorShareBps, BPS);
        margin -= int256(penalty);
        if (margin < 0) {
            badDebt = uint256(-margin);
            margin = 0;
        }
        _movePool(owed - realized + int256(penalty - reward) - int256(badDebt));
        p.margin = margin.toInt128();
        p.size = 0;
        p.openNotional = 0;
    }

    /* LP POOL */

    /// @inheritdoc IPerpVenue
    function addLiquidity(uint256 amount, uint256 minShares) external nonReentrant onlyRegistered returns (uint256) {
        return _addLiquidity(msg.sender, amount, minShares);
    }

    /// @inheritdoc IPerpVenue
    function addLiquidityFor(address provider, uint256 amount, uint256 minShares)
        external
        nonReentrant
        onlyOrders
        returns (uint256)
    {
        return _addLiquidity(provider, amount, minShares);
    }

    /// @inheritdoc IPerpVenue
    function removeLiquidity(uint256 shares, uint256 minAmount) external nonReentrant onlyRegistered returns (uint256) {
        return _removeLiquidity(msg.sender, shares, minAmount);
    }

    /// @inheritdoc IPerpVenue
    function removeLiquidityFor(address provider, uint256 shares, uint256 minAmount)
        external
        nonReentrant
        onlyOrders
        returns (uint256)
    {
        return _removeLiquidity(provider, shares, minAmount);
    }

    /* VIEWS */

    /// @inheritdoc IPerpVenue
    function marketConfig(uint256 marketId) external view returns (MarketConfig memory) {
        return _configs[marketId];
    }

    /// @inheritdoc ITokenVenue
    function marketFeed(uint256 marketId) external view returns (AggregatorV3Interface feed, uint256 heartbeat) {
        MarketConfig storage c = _configs[marketId];
        return (c.feed, c.heartbeat);
    }

    /// @inheritdoc IPerpVenue
    function marketState(uint256 marketId) external view returns (MarketState memory) {
        return _states[marketId];
    }

    /// @inheritdoc IPerpVenue
    function position(uint256 marketId, address account) external view returns (Position memory) {
        return _positions[marketId][account];
    }

    /// @inheritdoc ITokenVenue
    function indexPrice(uint256 marketId) external view returns (uint256) {
        _requireMarket(marketId);
        return _price(marketId);
    }

    /// @inheritdoc ITokenVenue
    function accountState(uint256 marketId, address account) public view returns (int256 value, int256 size, uint256 price) {
        _requireMarket(marketId);
        Position memory p = _positions[marketId][account];
        if (p.size == 0) return (p.margin, 0, 0);
        MarketState memory m = _states[marketId];
        price = _price(marketId);
        _accrue(marketId, m, price);
        _settleFunding(p, m);
        return (p.margin + _unrealized(p, price), p.size, price);
    }

    /// @inheritdoc IPerpVenue
    function accountValue(uint256 marketId, address account) external view returns (int256 value) {
        (value,,) = accountState(marketId, account);
    }

    /// @inheritdoc IPerpVenue
    function marginRatio(uint256 marketId, address account) public view returns (uint256) {
        (int256 value, int256 size, uint256 price) = accountState(marketId, account);
        if (size == 0) return type(uint256).max;
        if (value <= 0) return 0;
        return FPM.mulDivDown(uint256(value), WAD, _notionalUp(FPM.abs(size), price));
    }

    /// @inheritdoc IPerpVenue
    function isLiquidatable(uint256 marketId, address account) external view returns (bool) {
        (int256 value, int256 size, uint256 price) = accountState(marketId, account);
        if (size == 0) return false;
        uint256 maintenance = FPM.mulDivUp(_notionalUp(FPM.abs(size), price), _configs[marketId].maintenanceMarginBps, BPS);
        return value < maintenance.toInt256();
    }

    /// @inheritdoc IPerpVenue
    function fundingOwed(uint256 marketId, address account) external view returns (int256) {
        _requireMarket(marketId);
        Position memory p = _positions[marketId][account];
        if (p.size == 0) return 0;
        MarketState memory m = _states[marketId];
        _accrue(marketId, m, _price(marketId));
        return _settleFunding(p, m);
    }

    /// @inheritdoc IPerpVenue
    function fundingRate(uint256 marketId) public view returns (int256) {
        MarketState memory m = _states[marketId];
        uint256 total = uint256(m.longOpenInterest) + m.shortOpenInterest;
        if (total == 0) return 0;
        int256 skew = int256(uint256(m.longOpenInterest)) - int256(uint256(m.shortOpenInterest));
        return int256(uint256(_configs[marketId].maxFundingRatePerDay)) * skew / int256(total);
    }

    /// @inheritdoc IPerpVenue
    function openInterest(uint256 marketId) external view returns (uint256 longs, uint256 shorts) {
        MarketState memory m = _states[marketId];
        return (m.longOpenInterest, m.shortOpenInterest);
    }

    /// @inheritdoc ITokenVenue
    function quoteTrade(uint256 marketId, int256 sizeDelta)
        external
        view
        returns (uint256 price, uint256 executionPrice, uint256 fee, uint256 impact)
    {
        _requireMarket(marketId);
        price = _price(marketId);
        (fee, impact, executionPrice) = _tradeCost(_configs[marketId], sizeDelta, price);
    }

    /// @inheritdoc ITokenVenue
    function quoteModify(uint256 marketId, address account, int256 marginDelta, int256 sizeDelta)
        external
        view
        returns (int256 valueBefore, int256 valueAfter, uint256 price)
    {
        _requireMarket(marketId);
        bool capped = !isRegistered[account];
        Outcome memory o =
            _simulate(marketId, _positions[marketId][account], _states[marketId], marginDelta, sizeDelta, capped);
        return (o.valueBefore, o.valueAfter, o.price);
    }

    /// @inheritdoc IPerpVenue
    function poolValue() external view returns (uint256 value) {
        (value,) = _pool(false);
    }

    /* INTERNAL: ENTRY AND EXIT */

    function _trade(uint256 marketId, address account, int256 sizeDelta, uint256 acceptablePrice) internal {
        if (sizeDelta == 0) revert ZeroAmount();
        Outcome memory o = _modify(marketId, account, 0, sizeDelta, account);
        if (acceptablePrice != 0) {
            bool worse = sizeDelta > 0 ? o.executionPrice > acceptablePrice : o.executionPrice < acceptablePrice;
            if (worse) revert SlippageExceeded(o.executionPrice, acceptablePrice);
        }
    }

    /// @dev `provider` gets shares for `amount` of collateral the caller pays (itself, or DelayedOrders' escrow).
    function _addLiquidity(address provider, uint256 amount, uint256 minShares) internal returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        // Round the pool's value up and the shares down: the new LP never gains at the others' expense.
        (uint256 value,) = _pool(true);
        shares = SharesMath.toSharesDown(amount, value, totalLpShares, VIRTUAL_LP_SHARES);
        if (shares == 0 || shares < minShares) revert SlippageExceeded(shares, minShares);
        totalLpShares += shares;
        lpShares[provider] += shares;
        poolCash += amount;
        emit LiquidityAdded(provider, amount, shares);
        collateral.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Burns `shares` of `provider` for their value, paid to `provider`; the cash left must cover the
    /// traders' unrealised profit (PoolReserveBreached), so LPs leaving never make it unpayable.
    function _removeLiquidity(address provider, uint256 shares, uint256 minAmount) internal returns (uint256 amount) {
        if (shares == 0) revert ZeroAmount();
        uint256 balance = lpShares[provider];
        if (balance < shares) revert InsufficientShares(balance, shares);
        (uint256 value, uint256 owed) = _pool(false);
        amount = SharesMath.toAssetsDown(shares, value, totalLpShares, VIRTUAL_LP_SHARES);
        if (amount < minAmount) revert SlippageExceeded(amount, minAmount);
        if (amount > poolCash) revert InsufficientPoolLiquidity(poolCash, amount);
        if (poolCash - amount < owed) revert PoolReserveBreached(poolCash - amount, owed);
        lpShares[provider] = balance - shares;
        totalLpShares -= shares;
        poolCash -= amount;
        emit LiquidityRemoved(provider, amount, shares);
        collateral.safeTransfer(provider, amount);
    }

    /* INTERNAL: MODIFY */

    function _modify(uint256 marketId, address account, int256 marginDelta, int256 sizeDelta, address to)
        internal
        returns (Outcome memory o)
    {
        _requireMarket(marketId);
        Position memory p = _positions[marketId][account];
        MarketState memory m = _states[marketId];
        // The open-interest cap binds what DelayedOrders executes and unregistered accounts, not registered ones.
        o = _simulate(marketId, p, m, marginDelta, sizeDelta, msg.sender == orders || !isRegistered[account]);

        // Pool: funding owed to it, the trade's fee and impact, minus profit realised by the account.
        _movePool(o.fundingOwed + int256(o.fee + o.impact) - o.realizedPnl);
        _positions[marketId][account] = p;
        if (o.price != 0) _states[marketId] = m;

        if (o.fundingOwed != 0) emit FundingSettled(marketId, account, o.fundingOwed, m.fundingIndex);
        if (sizeDelta != 0) {
            emit PositionModified(
                marketId, account, sizeDelta, p.size, o.price, o.executionPrice, o.fee + o.impact, o.realizedPnl
            );
        }
        if (marginDelta > 0) {
            emit MarginDeposited(marketId, account, msg.sender, uint256(marginDelta));
            collateral.safeTransferFrom(msg.sender, address(this), uint256(marginDelta));
        } else if (marginDelta < 0) {
            emit MarginWithdrawn(marketId, account, to, uint256(-marginDelta));
            collateral.safeTransfer(to, uint256(-marginDelta));
        }
    }

    /// @dev Applies margin in, funding settlement, the trade and margin out to `p` and `m` in memory,
    /// and checks the result (the open-interest cap only when `capped`: an unregistered account). Reads the
    /// oracle only when the account has or takes a position.
    function _simulate(
        uint256 marketId,
        Position memory p,
        MarketState memory m,
        int256 marginDelta,
        int256 sizeDelta,
        bool capped
    ) internal view returns (Outcome memory o) {
        int256 oldSize = p.size;
        if (oldSize != 0 || sizeDelta != 0) {
            o.price = _price(marketId);
            _accrue(marketId, m, o.price);
            o.fundingOwed = _settleFunding(p, m);
        }
        o.valueBefore = p.margin + _unrealized(p, o.price);
        if (marginDelta > 0) p.margin += marginDelta.toInt128();

        MarketConfig memory c = _configs[marketId];
        if (sizeDelta != 0) {
            (o.fee, o.impact, o.executionPrice) = _tradeCost(c, sizeDelta, o.price);
            p.margin -= (o.fee + o.impact).toInt256().toInt128();
            o.realizedPnl = _applyTrade(p, m, sizeDelta, o.price);
        }
        if (marginDelta < 0) {
            uint256 amount = uint256(-marginDelta);
            if (p.margin < int256(amount) && _reduces(oldSize, p.size)) {
                // An exit withdraws against value: as much of the rest of the position's profit as the withdrawal
                // lacks is realised into margin (the pool pays it now rather than at the close).
                int256 gain = FPM.sMin(_unrealized(p, o.price), int256(amount) - p.margin);
                if (gain > 0) o.realizedPnl += _realize(p, m, gain);
            }
            if (p.margin < int256(amount)) revert InsufficientFreeMargin(p.margin, amount);
            p.margin -= int128(int256(amount));
        }
        o.valueAfter = p.margin + _unrealized(p, o.price);

        // Checks: anything that adds risk (more size, a flip, margin out) needs initial margin;
        // a pure reduction only needs the account to stay solvent.
        int256 newSize = p.size;
        bool addsRisk = FPM.abs(newSize) > FPM.abs(oldSize) || (oldSize ^ newSize) < 0;
        if (addsRisk || marginDelta < 0) {
            uint256 required = FPM.mulDivUp(_notionalUp(FPM.abs(newSize), o.price), c.initialMarginBps, BPS);
            if (o.valueAfter < required.toInt256() && (addsRisk || !_isProRataExit(o, oldSize, newSize))) {
                revert InsufficientMargin(o.valueAfter, required);
            }
        } else if (sizeDelta != 0 && o.valueAfter < 0) {
            revert InsufficientMargin(o.valueAfter, 0);
        }
        if (addsRisk && capped) {
            uint256 oi = newSize > 0 ? m.longOpenInterest : m.shortOpenInterest;
            if (oi > c.maxOpenInterest) revert OpenInterestCapExceeded(oi, c.maxOpenInterest);
        }
        if (o.realizedPnl > 0 || o.fundingOwed < 0) {
            int256 net = o.fundingOwed + int256(o.fee + o.impact) - o.realizedPnl;
            if (net < 0 && uint256(-net) > poolCash) revert InsufficientPoolLiquidity(poolCash, uint256(-net));
        }
    }

    /// @dev Whether margin taken out together with a reduction leaves the account's margin ratio no worse
    /// (value / size): a pro-rata exit, like a leveraged token's redemption, which must work even above
    /// the initial-margin leverage. The remaining value may fall short of pro rata by less than
    /// PRO_RATA_SLACK units, what the exiting side's roundings (its share, its size, the PnL split) can
    /// leave; the account must stay solvent.
    function _isProRataExit(Outcome memory o, int256 oldSize, int256 newSize) internal pure returns (bool) {
        if (o.valueAfter < 0 || o.valueBefore <= 0 || FPM.abs(newSize) >= FPM.abs(oldSize)) return false;
        return (uint256(o.valueAfter) + PRO_RATA_SLACK) * FPM.abs(oldSize) >= uint256(o.valueBefore) * FPM.abs(newSize);
    }

    /// @dev Whether a trade from `oldSize` to `newSize` only reduces the position (no flip).
    function _reduces(int256 oldSize, int256 newSize) internal pure returns (bool) {
        return FPM.abs(newSize) < FPM.abs(oldSize) && (oldSize ^ newSize) >= 0;
    }

    /// @dev Moves `gain` (> 0, at most the position's unrealised profit) into the margin of `p`: its open
    /// notional and the market's sum move by exactly gain * UNIT, so the unrealised PnL left is what was below
    /// one unit. Returns `gain`, which the pool pays.
    function _realize(Position memory p, MarketState memory m, int256 gain) internal view returns (int256) {
        p.margin += gain.toInt128();
        p.openNotional += gain * UNIT;
        _moveNotional(m, p.size, gain * UNIT);
        return gain;
    }

    /// @dev Changes the size of `p` by `sizeDelta` at `price`, keeping open notional and the market's
    /// sums exact; returns the PnL realised by the reduced part (rounded down).
    function _applyTrade(Position memory p, MarketState memory m, int256 sizeDelta, uint256 price)
        internal
        view
        returns (int256 realized)
    {
        int256 oldSize = p.size;
        int256 newSize = oldSize + sizeDelta;
        int256 iPrice = int256(price);
        _removeOpenInterest(m, oldSize);
        if (oldSize == 0 || (oldSize ^ sizeDelta) >= 0) {
            // Open or increase.
            p.openNotional += sizeDelta * iPrice;
            _moveNotional(m, newSize, sizeDelta * iPrice);
        } else {
            // Reduce, close or flip: the closed part takes its pro-rata share of open notional.
            uint256 absOld = FPM.abs(oldSize);
            uint256 closing = FPM.min(FPM.abs(sizeDelta), absOld);
            int256 removed = closing == absOld ? p.openNotional : p.openNotional * int256(closing) / int256(absOld);
            int256 closedSize = oldSize > 0 ? int256(closing) : -int256(closing);
            realized = FPM.sDivDown(closedSize * iPrice - removed, UNIT);
            p.openNotional -= removed;
            _moveNotional(m, oldSize, -removed);
            p.margin += realized.toInt128();
            if ((oldSize ^ newSize) < 0) {
                // Flip: the remainder opens a new position at the same price.
                p.openNotional += newSize * iPrice;
                _moveNotional(m, newSize, newSize * iPrice);
            }
        }
        // Funding sums: the account's snapshot is the current index, so its weight moves with size.
        m.sumFundingSnapshot += sizeDelta * m.fundingIndex;
        p.size = newSize.toInt128();
        _addOpenInterest(m, newSize);
    }

    /* INTERNAL: HELPERS */

    function _price(uint256 marketId) internal view returns (uint256) {
        MarketConfig storage c = _configs[marketId];
        return OracleLib.readWad(c.feed, c.heartbeat, _priceScale[marketId]);
    }

    /// @dev Brings the funding index of `m` to now at `price` (memory only).
    function _accrue(uint256 marketId, MarketState memory m, uint256 price) internal view {
        m.fundingIndex = _fundingIndexNow(marketId, m, price);
        m.lastFundingTime = uint64(block.timestamp);
    }

    function _fundingIndexNow(uint256 marketId, MarketState memory m, uint256 price) internal view returns (int128) {
        uint256 elapsed = block.timestamp - m.lastFundingTime;
        uint256 total = uint256(m.longOpenInterest) + m.shortOpenInterest;
        if (elapsed == 0 || total == 0) return m.fundingIndex;
        int256 skew = int256(uint256(m.longOpenInterest)) - int256(uint256(m.shortOpenInterest));
        int256 ratePerDay = int256(uint256(_configs[marketId].maxFundingRatePerDay)) * skew / int256(total);
        int256 delta = FPM.sDivDown(ratePerDay * int256(price) * int256(elapsed), int256(1 days * WAD));
        return (m.fundingIndex + delta).toInt128();
    }

    /// @dev Settles funding of `p` into its margin at the market's current index; returns the amount
    /// owed (rounded up; negative when the account is owed) and updates the market's snapshot sum.
    function _settleFunding(Position memory p, MarketState memory m) internal view returns (int256 owed) {
        int256 diff = int256(m.fundingIndex) - p.fundingSnapshot;
        if (p.size != 0 && diff != 0) {
            owed = FPM.sDivUp(int256(p.size) * diff, UNIT);
            p.margin -= owed.toInt128();
            m.sumFundingSnapshot += int256(p.size) * diff;
        }
        p.fundingSnapshot = m.fundingIndex;
    }

    function _unrealized(Position memory p, uint256 price) internal view returns (int256) {
        if (p.size == 0) return 0;
        return FPM.sDivDown(int256(p.size) * int256(price) - p.openNotional, UNIT);
    }

    function _notionalUp(uint256 absSize, uint256 price) internal view returns (uint256) {
        return FPM.mulDivUp(absSize, price, uint256(UNIT));
    }

    /// @dev Fee and impact of a trade, both rounded up; impact grows linearly with notional up to a cap.
    function _tradeCost(MarketConfig memory c, int256 sizeDelta, uint256 price)
        internal
        view
        returns (uint256 fee, uint256 impact, uint256 executionPrice)
    {
        uint256 notional = _notionalUp(FPM.abs(sizeDelta), price);
        fee = FPM.mulDivUp(notional, c.takerFeeBps, BPS);
        uint256 impactWad = FPM.min(FPM.mulDivUp(notional, WAD, c.impactDepth), uint256(c.maxImpactBps) * 1e14);
        impact = FPM.mulDivUp(notional, impactWad, WAD);
        executionPrice = sizeDelta > 0 ? FPM.mulDivUp(price, WAD + impactWad, WAD) : FPM.mulDivDown(price, WAD - impactWad, WAD);
    }

    /// @dev Adds `delta` to the open notional of the side of a position of `size` (and to the market's sum).
    function _moveNotional(MarketState memory m, int256 size, int256 delta) internal pure {
        m.sumOpenNotional += delta;
        if (size > 0) m.longOpenNotional += delta;
    }

    function _removeOpenInterest(MarketState memory m, int256 size) internal pure {
        if (size > 0) m.longOpenInterest -= uint128(uint256(size));
        else if (size < 0) m.shortOpenInterest -= uint128(uint256(-size));
    }

    function _addOpenInterest(MarketState memory m, int256 size) internal pure {
        if (size > 0) m.longOpenInterest += uint256(size).toUint128();
        else if (size < 0) m.shortOpenInterest += uint256(-size).toUint128();
    }

    /// @dev Moves collateral into (positive) or out of the pool's cash; the pool cannot go below zero.
    function _movePool(int256 delta) internal {
        if (delta >= 0) {
            poolCash += uint256(delta);
        } else {
            uint256 amount = uint256(-delta);
            if (amount > poolCash) revert InsufficientPoolLiquidity(poolCash, amount);
            poolCash -= amount;
        }
    }

    /// @dev Pool value = cash - traders' unrealised PnL + funding they owe, over every market; and what the
    /// pool owes traders: each side's unrealised profit on each market (funding not netted), rounded up.
    function _pool(bool roundUp) internal view returns (uint256 value, uint256 owed) {
        int256 total = int256(poolCash);
        for (uint256 marketId = 1; marketId <= marketCount; ++marketId) {
            MarketState memory m = _states[marketId];
            int256 net = int256(uint256(m.longOpenInterest)) - int256(uint256(m.shortOpenInterest));
            bool idle = m.longOpenInterest == 0 && m.shortOpenInterest == 0;
            if (idle && m.sumOpenNotional == 0 && m.sumFundingSnapshot == 0) continue;
            uint256 price = _price(marketId);
            _accrue(marketId, m, price);
            int256 tradersPnl = net * int256(price) - m.sumOpenNotional;
            int256 fundingToPool = net * m.fundingIndex - m.sumFundingSnapshot;
            int256 marketValue = fundingToPool - tradersPnl;
            total += roundUp ? FPM.sDivUp(marketValue, UNIT) : FPM.sDivDown(marketValue, UNIT);
            // Each side's profit separately: one side's loss sits in its own margin until it closes.
            int256 longsPnl = int256(uint256(m.longOpenInterest)) * int256(price) - m.longOpenNotional;
            int256 shortsPnl = tradersPnl - longsPnl;
            if (longsPnl > 0) owed += uint256(FPM.sDivUp(longsPnl, UNIT));
            if (shortsPnl > 0) owed += uint256(FPM.sDivUp(shortsPnl, UNIT));
        }
        value = total > 0 ? uint256(total) : 0;
    }

    modifier onlyRegistered() {
        if (!isRegistered[msg.sender]) revert NotRegistered(msg.sender);
        _;
    }

    modifier onlyOrders() {
        if (msg.sender != orders || msg.sender == address(0)) revert NotOrders(msg.sender);
        _;
    }

    function _requireMarket(uint256 marketId) internal view {
        // Every listed market has a non-zero price scale, and the price read needs that slot anyway.
        if (_priceScale[marketId] == 0) revert UnknownMarket(marketId);
    }

    /// @dev Reverts ConfigStepTooLarge on the first field (in struct order) that `next` raises by more than its
    /// step over `current`.
    function _checkSteps(MarketConfig storage current, MarketConfig calldata next) internal view {
        checkStep("takerFeeBps", current.takerFeeBps, next.takerFeeBps, 5);
        checkStep("maxImpactBps", current.maxImpactBps, next.maxImpactBps, 50);
        checkStep("initialMarginBps", current.initialMarginBps, next.initialMarginBps, 500);
        checkStep("maintenanceMarginBps", current.maintenanceMarginBps, next.maintenanceMarginBps, 100);
        checkStep("liquidationPenaltyBps", current.liquidationPenaltyBps, next.liquidationPenaltyBps, 50);
        checkStep("liquidatorShareBps", current.liquidatorShareBps, next.liquidatorShareBps, 1000);
        checkStep("maxFundingRatePerDay", current.maxFundingRatePerDay, next.maxFundingRatePerDay, 1e15);
    }

    /// @dev Reverts with the first MarketConfig field (in struct order) outside its hard bounds.
    function _validate(MarketConfig calldata c) internal pure {
        if (address(c.feed) == address(0)) revert InvalidConfig("feed");
        if (c.heartbeat < 60 || c.heartbeat > 7 days) revert InvalidConfig("heartbeat");
        if (c.takerFeeBps > 100) revert InvalidConfig("takerFeeBps");
        if (c.maxImpactBps > 500) revert InvalidConfig("maxImpactBps");
        if (c.initialMarginBps > 5000) revert InvalidConfig("initialMarginBps");
        if (
            c.maintenanceMarginBps < 50 || c.maintenanceMarginBps >= c.initialMarginBps
                || c.maintenanceMarginBps > MAX_MAINTENANCE_MARGIN_BPS
        ) revert InvalidConfig("maintenanceMarginBps");
        if (c.liquidationPenaltyBps > c.maintenanceMarginBps || c.liquidationPenaltyBps > MAX_LIQUIDATION_PENALTY_BPS) {
            revert InvalidConfig("liquidationPenaltyBps");
        }
        if (c.liquidatorShareBps > MAX_LIQUIDATOR_SHARE_BPS) revert InvalidConfig("liquidatorShareBps");
        if (c.impactDepth == 0) revert InvalidConfig("impactDepth");
        if (c.maxFundingRatePerDay > 1e16) revert InvalidConfig("maxFundingRatePerDay");
        if (c.maxOpenInterest == 0) revert InvalidConfig("maxOpenInterest");
    }
}
