// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {IDelayedOrders} from "./interfaces/IDelayedOrders.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {ZeroAmount} from "./interfaces/Errors.sol";

/// @title DelayedOrders
/// @notice The venue's entry and exit for ordinary accounts, asynchronous like the tokens': a trade, an LP
/// deposit or an LP withdrawal is a request, executed by a keeper at an oracle round published after it (the
/// venue's latest price then), never at a price its requester could have seen. Registered accounts (the
/// tokens, whose own flows are priced this way) trade on the venue in one step; everyone else comes here.
/// @dev Two steps as GMX v2's deposits, withdrawals and orders and Synthetix v3's async orders:
/// - request: the requester escrows what the order needs (collateral for an LP deposit) and the execution fee;
/// - execute (keepers only, at a round newer than the request, within `window`): the venue call is made for the
///   requester; if the venue refuses it (slippage, margin, open interest, reserve) the order is cancelled and
///   its escrow refunded; the keeper is paid the fee either way, so a requester cannot grief keepers for free;
/// - cancel (the requester, once `window` passed without execution): escrow and fee refunded.
/// A keeper chooses only whether to execute a qualified order within its window, at the latest round: the same
/// trust the tokens give their keepers (DESIGN.md 7.8). Nobody else can time an execution.
contract DelayedOrders is IDelayedOrders, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev Largest execution fee the owner may set, in collateral units of 18 decimals (10 units).
    uint256 internal constant MAX_EXECUTION_FEE_WAD = 10e18;

    /// @inheritdoc IDelayedOrders
    IPerpVenue public immutable venue;
    /// @inheritdoc IDelayedOrders
    IERC20 public immutable collateral;
    uint256 internal immutable MAX_EXECUTION_FEE;

    /// @inheritdoc IDelayedOrders
    uint256 public executionFee;
    /// @inheritdoc IDelayedOrders
    uint256 public window;
    /// @inheritdoc IDelayedOrders
    mapping(address => bool) public isKeeper;
    /// @inheritdoc IDelayedOrders
    uint256 public orderCount;
    mapping(uint256 => Order) internal _orders;

    /// @param venue_ The venue whose executor this contract is (the venue's owner names it).
    /// @param owner_ Sets the execution fee, the window and the keepers.
    /// @param executionFee_ Collateral units paid to the keeper per order.
    /// @param window_ Seconds after a request within which a keeper may execute it (and after which the
    /// requester may cancel it).
    constructor(IPerpVenue venue_, address owner_, uint256 executionFee_, uint256 window_) Ownable(owner_) {
        venue = venue_;
        collateral = venue_.collateral();
        MAX_EXECUTION_FEE = MAX_EXECUTION_FEE_WAD / 10 ** (18 - _decimals(address(collateral)));
        _setTerms(executionFee_, window_);
        collateral.forceApprove(address(venue_), type(uint256).max);
    }

    /* OWNER */

    /// @inheritdoc IDelayedOrders
    function setTerms(uint256 executionFee_, uint256 window_) external onlyOwner {
        _setTerms(executionFee_, window_);
    }

    /// @inheritdoc IDelayedOrders
    function setKeeper(address keeper, bool allowed) external onlyOwner {
        isKeeper[keeper] = allowed;
        emit KeeperSet(keeper, allowed);
    }

    /* REQUESTS */

    /// @inheritdoc IDelayedOrders
    function requestTrade(uint256 marketId, int256 sizeDelta, uint256 acceptablePrice)
        external
        nonReentrant
        returns (uint256 id)
    {
        if (sizeDelta == 0) revert ZeroAmount();
        venue.indexPrice(marketId); // an unknown market or a dead price refuses the request now
        id = _request(Kind.TRADE, marketId, sizeDelta, acceptablePrice, 0);
    }

    /// @inheritdoc IDelayedOrders
    function requestAddLiquidity(uint256 amount, uint256 minShares) external nonReentrant returns (uint256 id) {
        if (amount == 0) revert ZeroAmount();
        id = _request(Kind.ADD_LIQUIDITY, 0, amount.toInt256(), minShares, amount);
    }

    /// @inheritdoc IDelayedOrders
    function requestRemoveLiquidity(uint256 shares, uint256 minAmount) external nonReentrant returns (uint256 id) {
        if (shares == 0) revert ZeroAmount();
        uint256 balance = venue.lpShares(msg.sender);
        if (balance < shares) revert IPerpVenue.InsufficientShares(balance, shares);
        id = _request(Kind.REMOVE_LIQUIDITY, 0, shares.toInt256(), minAmount, 0);
    }

    /* EXECUTION */

    /// @inheritdoc IDelayedOrders
    function execute(uint256 id) external nonReentrant returns (bool executed) {
        if (!isKeeper[msg.sender]) revert NotKeeper(msg.sender);
        Order memory o = _pending(id);
        if (block.timestamp >= uint256(o.requestTime) + window) revert OrderExpired(id);
        uint256 priceTime = _qualifyingTime(o);
        if (priceTime <= o.requestTime) revert NoNewerPrice(o.requestTime, priceTime);
        bytes memory reason;
        (executed, reason) = _call(o);
        _orders[id].status = executed ? Status.EXECUTED : Status.CANCELLED;
        if (!executed && o.escrow != 0) collateral.safeTransfer(o.account, o.escrow);
        if (o.fee != 0) collateral.safeTransfer(msg.sender, o.fee);
        emit OrderExecuted(id, msg.sender, executed, reason);
    }

    /// @inheritdoc IDelayedOrders
    function cancel(uint256 id) external nonReentrant {
        Order memory o = _pending(id);
        if (msg.sender != o.account) revert NotRequester(msg.sender);
        uint256 allowedAt = uint256(o.requestTime) + window;
        if (block.timestamp < allowedAt) revert CancelTooEarly(allowedAt);
        _orders[id].status = Status.CANCELLED;
        emit OrderCancelled(id);
        collateral.safeTransfer(o.account, o.escrow + o.fee);
    }

    /* VIEWS */

    /// @inheritdoc IDelayedOrders
    function order(uint256 id) external view returns (Order memory) {
        return _orders[id];
    }

    /* INTERNAL */

    function _request(Kind kind, uint256 marketId, int256 amount, uint256 limit, uint256 escrow)
        internal
        returns (uint256 id)
    {
        uint256 fee = executionFee;
        id = ++orderCount;
        _orders[id] = Order(
            msg.sender, uint48(block.timestamp), kind, Status.PENDING, marketId.toUint64(), amount, limit,
            escrow.toUint128(), fee.toUint128()
        );
        emit OrderRequested(id, msg.sender, kind, marketId, amount, limit, fee);
        if (escrow + fee != 0) collateral.safeTransferFrom(msg.sender, address(this), escrow + fee);
    }

    /// @dev The venue call of order `o`, made for its requester; (false, revert data) when the venue refuses.
    function _call(Order memory o) internal returns (bool, bytes memory) {
        if (o.kind == Kind.TRADE) {
            try venue.tradeFor(o.marketId, o.account, o.amount, o.limit) {
                return (true, "");
            } catch (bytes memory reason) {
                return (false, reason);
            }
        }
        if (o.kind == Kind.ADD_LIQUIDITY) {
            try venue.addLiquidityFor(o.account, uint256(o.amount), o.limit) {
                return (true, "");
            } catch (bytes memory reason) {
                return (false, reason);
            }
        }
        try venue.removeLiquidityFor(o.account, uint256(o.amount), o.limit) {
            return (true, "");
        } catch (bytes memory reason) {
            return (false, reason);
        }
    }

    /// @dev The time of the round the order would execute at: the market's latest round for a trade; for an LP
    /// flow, the oldest latest round among the markets the pool is exposed to (every price the pool's value
    /// reads must be newer than the request), or now when it is exposed to none.
    function _qualifyingTime(Order memory o) internal view returns (uint256) {
        if (o.kind == Kind.TRADE) return _roundTime(o.marketId);
        uint256 oldest = block.timestamp;
        uint256 count = venue.marketCount();
        for (uint256 m = 1; m <= count; ++m) {
            (uint256 longs, uint256 shorts) = venue.openInterest(m);
            if (longs == 0 && shorts == 0) continue;
            uint256 t = _roundTime(m);
            if (t < oldest) oldest = t;
        }
        return oldest;
    }

    function _roundTime(uint256 marketId) internal view returns (uint256 updatedAt) {
        (AggregatorV3Interface feed,) = venue.marketFeed(marketId);
        (,,, updatedAt,) = feed.latestRoundData();
    }

    function _pending(uint256 id) internal view returns (Order memory o) {
        o = _orders[id];
        if (o.status != Status.PENDING) revert OrderNotPending(id);
    }

    function _setTerms(uint256 executionFee_, uint256 window_) internal {
        if (executionFee_ > MAX_EXECUTION_FEE) revert InvalidTerms("executionFee");
        if (window_ < 1 minutes || window_ > 1 days) revert InvalidTerms("window");
        (executionFee, window) = (executionFee_, window_);
        emit TermsSet(executionFee_, window_);
    }

    function _decimals(address token) private view returns (uint256) {
        return IERC20Metadata(token).decimals();
    }
}
